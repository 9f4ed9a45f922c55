/** Short messages at the bottom of the page (role=status, so screen readers hear them). */
import { useEffect, useState } from 'preact/hooks';

export interface Toast {
  readonly id: number;
  readonly text: string;
  readonly kind: 'info' | 'error';
}

let toasts: readonly Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function emit(): void {
  for (const l of listeners) l();
}

export function notify(text: string, kind: Toast['kind'] = 'info'): void {
  const toast = { id: nextId++, text, kind };
  toasts = [...toasts.slice(-3), toast];
  emit();
  setTimeout(
    () => {
      toasts = toasts.filter((t) => t !== toast);
      emit();
    },
    kind === 'error' ? 8000 : 4000,
  );
}

export function useToasts(): readonly Toast[] {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return toasts;
}
