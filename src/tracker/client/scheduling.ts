import { type Clock, type Scheduler, systemScheduler } from '../../util/clock.js';

/**
 * The scheduler a tracker-client part runs on. `scheduler` wins; the older `clock` option is
 * still honoured: every clock peerdrop makes is a Scheduler and is used as one, and a bare
 * `Clock` (time only) is read for the time while its timers run on the event loop, as before
 * timers moved behind the Scheduler.
 */
export function schedulerFrom(options: {
  readonly scheduler?: Scheduler;
  readonly clock?: Clock;
}): Scheduler {
  if (options.scheduler) return options.scheduler;
  const clock = options.clock;
  if (clock === undefined) return systemScheduler;
  if (isScheduler(clock)) return clock;
  return {
    now: () => clock.now(),
    setTimer: systemScheduler.setTimer,
    setInterval: systemScheduler.setInterval,
  };
}

function isScheduler(clock: Clock): clock is Scheduler {
  const c = clock as Partial<Scheduler>;
  return typeof c.setTimer === 'function' && typeof c.setInterval === 'function';
}
