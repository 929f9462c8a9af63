/**
 * Structured log lines for the send pipeline's problems (one JSON object per line, readable in
 * `wrangler tail` and Workers Logs): failures, dead sends, malformed messages. Each is also on the
 * sends row; the log gives them a timeline. Successes are recorded on the row only.
 */

/** Logs one send event, e.g. `logSendEvent("send.dead", { sendId, error })`. */
export function logSendEvent(event: string, fields: Record<string, string | number | boolean | null>): void {
  console.warn(JSON.stringify({ event, ...fields }));
}
