import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export interface Managed {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves when a line matching `re` appears; rejects on exit or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (kills with SIGKILL after `timeoutMs`). */
  exited(timeoutMs?: number): Promise<number | null>;
  /** SIGTERM, then SIGKILL after 2 s. */
  stop(): Promise<void>;
}

/**
 * Start a real program for an interop test. Output is kept (bounded) for diagnostics, and the
 * process is always killed by `stop()` so no test leaves clients running.
 */
export function startProcess(cmd: string, args: readonly string[], options: SpawnOptions = {}): Managed {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  let out = '';
  const MAX_OUTPUT = 1 << 20;
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    if (out.length > MAX_OUTPUT) out = out.slice(-MAX_OUTPUT / 2);
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exitCode: number | null | undefined;
  const exitPromise = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      for (const w of [...waiters]) w();
      resolve(exitCode);
    });
    child.on('error', (err) => {
      out += `\n[spawn error] ${err.message}`;
      exitCode = -1;
      for (const w of [...waiters]) w();
      resolve(-1);
    });
  });
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            cleanup();
            resolve(m);
          } else if (exitCode !== undefined) {
            cleanup();
            reject(new Error(`${cmd} exited (${exitCode}) before ${re}; output:\n${out.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${re} from ${cmd}; output:\n${out.slice(-4000)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async exited(timeoutMs = 60_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exitPromise;
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
