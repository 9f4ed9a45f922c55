import { PeerdropError } from '../util/errors.js';

/**
 * Every way a tracker exchange can fail. Stable: the session, the server and tests match on
 * these. A tracker error is always an error for that one tracker, never for the torrent.
 */
export type TrackerErrorCode =
  /** The announce or scrape URL is unusable (scheme, host, port). */
  | 'TRACKER_BAD_URL'
  /** The response body is not a bencoded dictionary. */
  | 'TRACKER_NOT_BENCODE'
  /** The response is bencode but a field is missing, of the wrong type or out of range. */
  | 'TRACKER_BAD_RESPONSE'
  /** `interval` / `min interval` negative, not an integer or absurdly large. */
  | 'TRACKER_BAD_INTERVAL'
  /** A compact peers string whose length is not a multiple of 6 (or 18), or a bad peer list. */
  | 'TRACKER_BAD_PEERS'
  /** The tracker answered with a `failure reason` (HTTP) or an error packet (UDP). */
  | 'TRACKER_FAILURE'
  /** The body exceeds the byte cap (read as a stream and cut off). */
  | 'TRACKER_RESPONSE_TOO_LARGE'
  /** An HTTP status other than 2xx without a bencoded failure reason. */
  | 'TRACKER_HTTP_STATUS'
  /** No answer in time (HTTP timeout or all BEP 15 retransmissions used). */
  | 'TRACKER_TIMEOUT'
  /** The request was cancelled by its AbortSignal (e.g. shutdown). */
  | 'TRACKER_ABORTED'
  /** DNS, connection refused, reset: the network did not deliver. */
  | 'TRACKER_NETWORK'
  /** A request parameter (server side) is missing. */
  | 'TRACKER_MISSING_PARAM'
  /** A request parameter (server side) is malformed or out of range. */
  | 'TRACKER_BAD_PARAM'
  /** A UDP tracker packet with a wrong length, action or protocol id. */
  | 'TRACKER_BAD_PACKET';

export class TrackerError extends PeerdropError {
  declare readonly code: TrackerErrorCode;
  /** For `TRACKER_FAILURE`: the tracker's own words, untrusted text for display only. */
  readonly failureReason: string | undefined;

  constructor(
    code: TrackerErrorCode,
    message: string,
    options?: { cause?: unknown; failureReason?: string },
  ) {
    super(code, message, options);
    this.failureReason = options?.failureReason;
  }
}

export function isTrackerError(err: unknown): err is TrackerError {
  return err instanceof TrackerError;
}
