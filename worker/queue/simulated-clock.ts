/**
 * The queue consumer's clock where the deployment steps through time (REBOUND_ALLOW_FUTURE_TICKS,
 * which `npm start` sets). A tick dated after the wall clock stores sends dated at its own time; on
 * the wall clock they would wait for the real date. Here the consumer's "now" is the later of the
 * wall clock and the time of the last tick that finished cleanly (the `tick` watermark, worker/tick/
 * state.ts), so what that tick sent is delivered. Elsewhere the consumer runs on the wall clock and
 * this module is not read.
 */
import { readWatermarks } from "../tick/state";

/** The later of `wallNow` and the last clean tick's time: one statement, read once per batch. */
export async function simulatedNow(db: D1Database, wallNow: number): Promise<number> {
  const { tick } = await readWatermarks(db);
  return Math.max(wallNow, tick ?? 0);
}
