/** Numbers as people read them: sizes, rates, durations, percentages. */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${UNITS[i]}`;
}

export function formatRate(bps: number): string {
  return bps > 0 ? `${formatBytes(bps)}/s` : '–';
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86_400)} d ${Math.round((seconds % 86_400) / 3600)} h`;
}

export function formatPercent(p: number): string {
  const v = Math.max(0, Math.min(1, p)) * 100;
  return `${v >= 99.95 || v === 0 ? v.toFixed(0) : v.toFixed(1)}%`;
}

export const STATE_LABEL: Readonly<Record<string, string>> = {
  metadata: 'Getting metadata',
  checking: 'Checking',
  downloading: 'Downloading',
  seeding: 'Seeding',
  paused: 'Paused',
  error: 'Error',
  stopped: 'Stopped',
  queued: 'Queued',
};

export const PRIORITY_LABEL: Readonly<Record<number, string>> = {
  0: 'Skip',
  1: 'Low',
  4: 'Normal',
  7: 'High',
};
