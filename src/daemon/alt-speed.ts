/**
 * Which global limits apply now: the normal ones, or the alternative ("turtle") ones when they
 * are switched on by hand or the schedule's window is open. Pure: the caller passes the local
 * time, so tests pick any day and minute.
 */
import type { AltSchedule, DaemonSettings } from './settings.js';

export interface LocalTime {
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  /** Minutes after local midnight. */
  readonly minute: number;
}

export function localTime(epochMs: number): LocalTime {
  const d = new Date(epochMs);
  return { weekday: d.getDay(), minute: d.getHours() * 60 + d.getMinutes() };
}

/**
 * Is the schedule's window open at `at`? A window that spans midnight (22:00–06:00) belongs to
 * the day it starts on: Friday 22:00–06:00 is open on Saturday 03:00.
 */
export function isInWindow(schedule: AltSchedule, at: LocalTime): boolean {
  if (!schedule.isEnabled || schedule.fromMinute === schedule.toMinute) return false;
  const days = new Set(schedule.days);
  if (schedule.fromMinute < schedule.toMinute)
    return days.has(at.weekday) && at.minute >= schedule.fromMinute && at.minute < schedule.toMinute;
  if (at.minute >= schedule.fromMinute) return days.has(at.weekday);
  return at.minute < schedule.toMinute && days.has((at.weekday + 6) % 7);
}

export interface EffectiveLimits {
  readonly isAlt: boolean;
  /** Bytes/s; Infinity is unlimited (the engine's convention). */
  readonly downloadBps: number;
  readonly uploadBps: number;
}

export function effectiveLimits(settings: DaemonSettings, at: LocalTime): EffectiveLimits {
  const isAlt = settings.isAltSpeedOn || isInWindow(settings.altSchedule, at);
  const down = isAlt ? settings.altDownloadBps : settings.globalDownloadBps;
  const up = isAlt ? settings.altUploadBps : settings.globalUploadBps;
  return {
    isAlt,
    downloadBps: down ?? Number.POSITIVE_INFINITY,
    uploadBps: up ?? Number.POSITIVE_INFINITY,
  };
}
