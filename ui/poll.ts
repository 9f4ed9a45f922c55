/** Polling for the parts of a torrent the event stream does not carry (files, peers, trackers). */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, messageOf } from './api.js';

/** Fetch `path` now and every `everyMs` while mounted; null until the first answer. */
export function usePoll<T>(path: string | null, everyMs: number): [T | null, string | null, () => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    if (!path) return;
    let isLive = true;
    const load = () =>
      api.get<T>(path).then(
        (d) => {
          if (!isLive) return;
          setData(d);
          setError(null);
        },
        (err) => isLive && setError(messageOf(err)),
      );
    void load();
    const timer = everyMs > 0 ? setInterval(load, everyMs) : null;
    return () => {
      isLive = false;
      if (timer) clearInterval(timer);
    };
  }, [path, everyMs, tick]);
  return [data, error, refresh];
}
