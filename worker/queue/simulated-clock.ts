/**
 * The queue consumer's clock where the deployment steps through time (REBOUND_ALLOW_FUTURE_TICKS,
 * which `npm start` sets). A tick dated after the wall clock stores sends dated at its own time; on
 * the wall clock they would wait for the real date. Here the consumer's "now" is the latest of the
 * wall clock, the last clean tick (the `tick` watermark) and the simulated clock a future admin tick
 * records before it runs (worker/tick/state.ts), so what such a tick sends is delivered, even in a
 * batch the consumer takes while the tick is still running. Elsewhere the consumer runs on the wall
 * clock and this module is not read.
 */
import { readSimulatedClock } from "../tick/state";

/** The latest of `wallNow`, the last clean tick and the simulated clock: one statement per batch. */
export async function simulatedNow(db: D1Database, wallNow: number): Promise<number> {
  return Math.max(wallNow, (await readSimulatedClock(db)) ?? 0);
}
