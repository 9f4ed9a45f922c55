/**
 * Seeding goals: a torrent stops seeding (paused, or removed with its data kept) once it has
 * uploaded `ratio` times its size or seeded `seedSeconds`. A torrent's own goal wins over the
 * daemon-wide one. Pure: the caller gives the totals and the seeding time.
 */
import type { SeedGoals } from './store.js';

export interface GoalInput {
  readonly uploadedBytes: number;
  readonly downloadedBytes: number;
  /** Bytes of the wanted files (a torrent seeded from local data downloaded nothing). */
  readonly wantedBytes: number;
  readonly seededMs: number;
}

export type GoalReached =
  | { readonly kind: 'ratio'; readonly ratio: number }
  | { readonly kind: 'time'; readonly seconds: number };

/** Upload ratio as Transmission counts it: against what was downloaded, or the size when nothing was. */
export function uploadRatio(input: GoalInput): number {
  const base = input.downloadedBytes > 0 ? Math.max(input.downloadedBytes, 1) : input.wantedBytes;
  return base > 0 ? input.uploadedBytes / base : 0;
}

export function goalReached(own: SeedGoals, daemonWide: SeedGoals, input: GoalInput): GoalReached | null {
  const ratioGoal = own.ratio ?? daemonWide.ratio;
  const timeGoal = own.seedSeconds ?? daemonWide.seedSeconds;
  const ratio = uploadRatio(input);
  if (ratioGoal !== null && ratio >= ratioGoal) return { kind: 'ratio', ratio };
  const seconds = input.seededMs / 1000;
  if (timeGoal !== null && seconds >= timeGoal) return { kind: 'time', seconds };
  return null;
}
