/**
 * Structured logs kept off the hot path: `event()` only pushes an object into a bounded
 * buffer; a timer serializes the batch as JSON lines and hands it to `write` (stderr in the
 * CLI) in one call. When the buffer is full, events are dropped and counted, never queued
 * without bound. Rejections are logged at most `maxEventsPerSecond` (the counters in
 * /metrics are exact; logs are samples).
 */
export interface TrackerLogger {
  event(name: string, fields?: Record<string, unknown>): void;
  /** Write what is buffered now (shutdown). */
  flush(): void;
  close(): void;
}

export const silentLogger: TrackerLogger = { event() {}, flush() {}, close() {} };

export interface JsonLogOptions {
  readonly write: (chunk: string) => void;
  readonly flushMs?: number;
  readonly maxBuffered?: number;
  readonly maxEventsPerSecond?: number;
  /** Wall-clock time for the `time` field (injected for tests). */
  readonly now?: () => number;
}

export function createJsonLogger(options: JsonLogOptions): TrackerLogger {
  const flushMs = options.flushMs ?? 250;
  const maxBuffered = options.maxBuffered ?? 10_000;
  const maxPerSecond = options.maxEventsPerSecond ?? 200;
  const now = options.now ?? Date.now;
  let buffer: Array<Record<string, unknown>> = [];
  let dropped = 0;
  let secondStart = 0;
  let inSecond = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const flush = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (dropped > 0) {
      buffer.push({ time: new Date(now()).toISOString(), event: 'log-dropped', count: dropped });
      dropped = 0;
    }
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    options.write(`${batch.map((e) => JSON.stringify(e)).join('\n')}\n`);
  };

  return {
    event(name, fields = {}) {
      const t = now();
      if (t - secondStart >= 1000) {
        secondStart = t;
        inSecond = 0;
      }
      if (++inSecond > maxPerSecond || buffer.length >= maxBuffered) {
        dropped++;
        return;
      }
      buffer.push({ time: new Date(t).toISOString(), event: name, ...fields });
      if (timer === null) {
        timer = setTimeout(flush, flushMs);
        timer.unref?.();
      }
    },
    flush,
    close: flush,
  };
}
