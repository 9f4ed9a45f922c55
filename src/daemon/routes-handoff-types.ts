/**
 * The JSON of the person-to-person routes (routes-handoff.ts), as the web page reads it. A leaf
 * module: type imports from other leaves only, so the browser build (ui/, `import type`) can
 * take the shapes from here without pulling server code into its typecheck.
 */
import type { FileRisk } from '../metainfo/file-risk.js';

/** An error as the routes and the statuses carry it (a stable code, a sentence for people). */
export interface HandoffErrorView {
  readonly code: string;
  readonly message: string;
}

/** One private-looking item that the scan before a send found (storage/sensitive-scan.ts). */
export interface SendFinding {
  readonly path: string;
  readonly kind: string;
  readonly reason: string;
}

export type SendState = 'waiting' | 'connected' | 'sending' | 'done' | 'failed' | 'cancelled';

/** `GET /api/send/:id`, and the answer of `POST /api/send`. */
export interface SendStatus {
  readonly id: string;
  /** The code to read out, like `7-guitar-orbit`. */
  readonly code: string;
  readonly state: SendState;
  readonly name: string;
  readonly fileCount: number;
  readonly totalBytes: number;
  /** Sent so far (every byte counts, resent ones too), and the rate now. */
  readonly uploadedBytes: number;
  readonly uploadRate: number;
  /** Receivers connected now. */
  readonly peers: number;
  /** Tries with a code that did not match (one ends the send: the code could be guessed). */
  readonly failedAttempts: number;
  /** Why it failed or stopped. */
  readonly error: HandoffErrorView | null;
  /** What the scan flagged and the user chose to send anyway. */
  readonly findings: readonly SendFinding[];
  readonly startedAtMs: number;
}

export interface OfferFileView {
  /** Inside the offered folder, `/`-joined (a single file: its name). */
  readonly path: string;
  readonly lengthBytes: number;
}

/** What a sender offers, as shown before the user accepts. */
export interface OfferView {
  readonly name: string;
  readonly isSingleFile: boolean;
  readonly fileCount: number;
  readonly totalBytes: number;
  /** The first files (the offer lists at most 200; `fileCount` counts them all). */
  readonly files: readonly OfferFileView[];
  /** Names that look disguised (double extension, bidi controls, executables). */
  readonly warnings: readonly FileRisk[];
  /** Where it will be written, relative to the download folder, and the absolute path. */
  readonly destination: string;
  readonly destinationPath: string;
  /**
   * Something of that name is already there: a transfer of the same files continues, other
   * content in its place is replaced piece by piece.
   */
  readonly isDestinationTaken: boolean;
}

export type ReceiveState = 'finding' | 'offer' | 'receiving' | 'done' | 'failed' | 'declined' | 'cancelled';

/** `GET /api/receive/:id`, and the answers of `POST /api/receive` and its accept/decline. */
export interface ReceiveStatus {
  readonly id: string;
  readonly code: string;
  readonly state: ReceiveState;
  /** Null until the sender was found and the code matched. */
  readonly offer: OfferView | null;
  /** 0..1 of verified data. */
  readonly progress: number;
  readonly verifiedBytes: number;
  readonly downloadRate: number;
  readonly error: HandoffErrorView | null;
  readonly startedAtMs: number;
}
