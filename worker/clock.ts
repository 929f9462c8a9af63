/**
 * The one place the Worker reads the wall clock. Everything below the entry points takes "now" as a
 * parameter (the event's time, the tick's scheduledTime, the request's time), so tests, replays and
 * simulations set it; only the HTTP routes, the queue consumer and `scheduled()` ask this module.
 */

/** The current instant in epoch milliseconds. */
export function wallClock(): number {
  return Date.now();
}
