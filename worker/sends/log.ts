/**
 * Structured log lines for the send pipeline (one JSON object per line, readable in `wrangler tail`
 * and Workers Logs). Failures are also on the sends row; the log gives them a timeline.
 */

/** Logs one send event, e.g. `logSendEvent("send.dead", { sendId, error })`. */
export function logSendEvent(event: string, fields: Record<string, string | number | boolean | null>): void {
  const line = JSON.stringify({ event, ...fields });
  if (event === "send.sent") console.debug(line);
  else console.warn(line);
}
