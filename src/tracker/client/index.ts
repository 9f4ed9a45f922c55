export { DEFAULT_SCHEDULE, type ScheduleOptions, TrackerAnnounceState } from './announce-state.js';
export { HttpTrackerTransport, type HttpTransportOptions } from './http-transport.js';
export { TrackerTiers } from './tiers.js';
export {
  TrackerClient,
  type TrackerClientEvents,
  type TrackerClientOptions,
  type TrackerStats,
  type TrackerSummary,
} from './tracker-client.js';
export { DefaultTrackerTransport, isSupportedTrackerUrl, type TrackerTransport } from './transport.js';
export { type UdpTarget, UdpTrackerCore, type UdpTrackerCoreOptions } from './udp-tracker.js';
export { UdpTrackerTransport, type UdpTransportOptions } from './udp-transport.js';
