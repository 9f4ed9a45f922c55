// Prints the closing line CI reads: "N passed, N failed[, N skipped]".
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const ev of source) {
    if (ev.data?.details?.type === 'suite') continue;
    if (ev.type === 'test:pass') {
      if (ev.data.skip || ev.data.todo) skipped++;
      else passed++;
    }
    if (ev.type === 'test:fail') failed++;
  }
  yield `${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
