/**
 * Reading a queue message body back into a `SendQueueMessage`, refusing anything else.
 */
import type { SendQueueMessage } from "./types";

/** Parses a rebound-sends (or DLQ) message body. */
export function parseSendQueueMessage(
  body: unknown,
): { ok: true; message: SendQueueMessage } | { ok: false; error: string } {
  if (typeof body !== "object" || body === null) return { ok: false, error: "message body is not an object" };
  const { v, sendId } = body as { v?: unknown; sendId?: unknown };
  if (v !== 1) return { ok: false, error: `unsupported message version ${JSON.stringify(v)}` };
  if (typeof sendId !== "string" || sendId === "") return { ok: false, error: "message has no sendId" };
  return { ok: true, message: { v: 1, sendId } };
}
