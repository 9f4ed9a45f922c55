/**
 * Errors with a stable `code` (undici/libtorrent style). Callers branch on `code`, never on
 * the message. Three kinds are kept apart across peerdrop:
 *  - programmer errors: `assert` / plain `Error`, never caught;
 *  - untrusted input (peer, tracker, file): a `PeerdropError` subclass with a code, handled;
 *  - environment failures (disk full, permission): `PeerdropError` with an `ENV_*`-style code.
 */
export class PeerdropError extends Error {
  /** A stable machine-readable code, e.g. `BENCODE_LEADING_ZERO`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Narrow an unknown caught value to a message for one-line user output. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** For exhaustive switches: the compiler proves this is unreachable. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${String(value)}`);
}
