/**
 * Turns a callback-driven producer (a lookup) into an async iterable: values are buffered
 * until the consumer reads them, so the producer never waits on the consumer and runs the same
 * on virtual time. `AbortSignal` ends the iteration with a `DHT_ABORTED` error.
 */
import { DhtError } from './errors.js';

/** Starts producing; returns a function that stops the producer early. */
export type Producer<T> = (push: (value: T) => void, end: (err?: Error) => void) => () => void;

export function iterate<T>(produce: Producer<T>, signal?: AbortSignal): AsyncGenerator<T, void, undefined> {
  const buffer: T[] = [];
  let isEnded = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const end = (err?: Error) => {
    if (isEnded) return;
    isEnded = true;
    failure = err ?? null;
    notify();
  };
  const stop = produce((value) => {
    if (isEnded) return;
    buffer.push(value);
    notify();
  }, end);
  const onAbort = () => {
    stop();
    end(new DhtError('DHT_ABORTED', 'the lookup was aborted'));
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return (async function* () {
    try {
      for (;;) {
        while (buffer.length > 0) yield buffer.shift()!;
        if (isEnded) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (failure) throw failure;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stop();
    }
  })();
}
