/**
 * What leaves the engine: warnings and errors carry a stable `code` from the table below (as
 * the wire, bencode and storage layers do), so a daemon, a CLI or a test switches on `code`
 * and shows `message` to people. Never match the prose.
 */
export const SessionWarningCodes = {
  /** A tracker answered with a `warning message` (BEP 3) or failed; `url` says which. */
  TRACKER_WARNING: 'a tracker answered with a warning',
  TRACKER_ERROR: 'a tracker could not be reached or refused the announce',
  /** A peer address given by the user (or a magnet `x.pe`) is not `host:port`. */
  PEER_ADDRESS_INVALID: 'a peer address could not be parsed',
  /** A downloaded piece did not match its hash; it is downloaded again. */
  PIECE_HASH_FAILED: 'a piece failed its hash check',
  RESUME_SAVE_FAILED: 'fast-resume data could not be saved',
  /** A peer sent metadata (BEP 9) that was malformed or did not hash to the info-hash. */
  METADATA_BAD_PEER: 'a peer sent bad metadata and was dropped',
  METADATA_RETRY: 'an assembled info dictionary did not match the info-hash',
  /** The info dictionary arrived but the torrent could not start (storage, bad layout). */
  METADATA_START_FAILED: 'the torrent could not start after its metadata arrived',
  /** Seed-only: some files are missing or damaged; `message` names them. */
  SEED_DATA_INCOMPLETE: 'the data to seed is incomplete',
  /** A peer source (DHT, LSD…) reported a problem. */
  PEER_SOURCE_WARNING: 'a peer source reported a problem',
} as const;

export type SessionWarningCode = keyof typeof SessionWarningCodes;

export interface SessionWarning {
  readonly code: SessionWarningCode;
  readonly message: string;
  /** The tracker URL, peer address or piece the warning is about, when there is one. */
  readonly subject?: string;
}

export function warning(code: SessionWarningCode, message: string, subject?: string): SessionWarning {
  return subject === undefined ? { code, message } : { code, message, subject };
}
