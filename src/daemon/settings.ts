/**
 * The daemon's settings: one TypeBox schema (the API body, the OpenAPI document) and one typed
 * reading of the stored values with their defaults. The store keeps each setting as a JSON
 * value by name, so the Transmission RPC, the API and older data folders all write the same
 * keys; values the schema would refuse (hand-edited, older versions) fall back to the default.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Rate = Type.Union([Type.Integer({ minimum: 1, maximum: 2 ** 40 }), Type.Null()], {
  description: 'bytes/s, null: unlimited',
});
const Count = Type.Union([Type.Integer({ minimum: 0, maximum: 100_000 }), Type.Null()], {
  description: 'null: no limit',
});
const MinuteOfDay = Type.Integer({ minimum: 0, maximum: 1439 });

export const AltScheduleSchema = Type.Object(
  {
    isEnabled: Type.Boolean(),
    /** Minutes after local midnight; a window with from > to spans midnight. */
    fromMinute: MinuteOfDay,
    toMinute: MinuteOfDay,
    /** 0 = Sunday … 6 = Saturday (the day the window starts on). */
    days: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { maxItems: 7, uniqueItems: true }),
  },
  { additionalProperties: false },
);

/** Every setting, all optional: a PUT changes only the keys it names. */
export const SettingsBody = Type.Object(
  {
    globalDownloadBps: Type.Optional(Rate),
    globalUploadBps: Type.Optional(Rate),
    altDownloadBps: Type.Optional(Rate),
    altUploadBps: Type.Optional(Rate),
    /** Alternative limits on now, whatever the schedule says (the turtle button). */
    isAltSpeedOn: Type.Optional(Type.Boolean()),
    altSchedule: Type.Optional(AltScheduleSchema),
    peerPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    maxActiveDownloads: Type.Optional(Count),
    maxActiveSeeds: Type.Optional(Count),
    /** Below this rate (bytes/s) for `slowAfterSeconds` a running torrent stops holding a slot. */
    slowDownloadBps: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 30 })),
    slowUploadBps: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 30 })),
    slowAfterSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    seedRatio: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 10_000 }), Type.Null()])),
    seedSeconds: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 2 ** 31 }), Type.Null()])),
    seedGoalAction: Type.Optional(Type.Union([Type.Literal('pause'), Type.Literal('remove')])),
    /** Where finished torrents move to, inside the download folder (null: they stay). */
    completedDir: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Null()])),
    /** A folder inside the download folder watched for `.torrent` files (null: off). */
    watchDir: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type SettingsPatch = Static<typeof SettingsBody>;

export type AltSchedule = Static<typeof AltScheduleSchema>;

export interface DaemonSettings {
  readonly globalDownloadBps: number | null;
  readonly globalUploadBps: number | null;
  readonly altDownloadBps: number | null;
  readonly altUploadBps: number | null;
  readonly isAltSpeedOn: boolean;
  readonly altSchedule: AltSchedule;
  readonly peerPort: number | null;
  readonly maxActiveDownloads: number | null;
  readonly maxActiveSeeds: number | null;
  readonly slowDownloadBps: number;
  readonly slowUploadBps: number;
  readonly slowAfterSeconds: number;
  readonly seedRatio: number | null;
  readonly seedSeconds: number | null;
  readonly seedGoalAction: 'pause' | 'remove';
  readonly completedDir: string | null;
  readonly watchDir: string | null;
}

/** Transmission's and qBittorrent's usual defaults: 5 downloads at once, seeds unlimited. */
export const DEFAULT_SETTINGS: DaemonSettings = {
  globalDownloadBps: null,
  globalUploadBps: null,
  altDownloadBps: 50 * 1024,
  altUploadBps: 50 * 1024,
  isAltSpeedOn: false,
  altSchedule: { isEnabled: false, fromMinute: 9 * 60, toMinute: 17 * 60, days: [1, 2, 3, 4, 5] },
  peerPort: null,
  maxActiveDownloads: 5,
  maxActiveSeeds: null,
  slowDownloadBps: 2 * 1024,
  slowUploadBps: 2 * 1024,
  slowAfterSeconds: 60,
  seedRatio: null,
  seedSeconds: null,
  seedGoalAction: 'pause',
  completedDir: null,
  watchDir: null,
};

const PROPERTIES = SettingsBody.properties as Record<string, Parameters<typeof Value.Check>[0]>;

/** The stored values read with their defaults; a value its schema refuses is ignored. */
export function readSettings(stored: Readonly<Record<string, unknown>>): DaemonSettings {
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [name, value] of Object.entries(stored)) {
    const schema = PROPERTIES[name];
    if (schema && Value.Check(schema, value)) out[name] = value;
  }
  return out as unknown as DaemonSettings;
}
