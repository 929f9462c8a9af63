/**
 * Reads a request's JSON body under a byte limit, without buffering more than the limit.
 *
 * Stage: HTTP, first step of every route that takes a body; what it returns goes to the route's
 * schema validator (worker/api/validation.ts).
 */

import { ApiError } from "../errors";
import { REQUEST_LIMITS } from "../limits";

/**
 * Parses the body of `request` as JSON.
 *
 * A body found too large while streaming (no Content-Length, e.g. chunked) is read on to its end and
 * thrown away chunk by chunk: workerd leaves the connection that carried a half-read body unusable,
 * and `cancel()` does not help, so the next request on it fails with "Network connection lost" or
 * hangs (cloudflare/workerd#1741; under `wrangler dev` every request rides such a pooled connection).
 * Only a body longer still than `REQUEST_LIMITS.maxDiscardBytes` is cancelled, so an endless body costs a
 * bounded read. A body never touched (declared too large, wrong type) is fine and is not read.
 * Memory stays at `maxBytes` plus one chunk.
 *
 * @throws ApiError 415 when the body is not declared as JSON, 400 `body_too_large` when it exceeds
 *   `maxBytes` (400 like every other bad input, as the API contract says; the code tells them apart),
 *   400 `invalid_json` when it does not parse
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      "Send the body as JSON with `Content-Type: application/json`.",
    );
  }
  const bytes = await readBodyBytes(request, maxBytes);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unreadable";
    throw new ApiError(400, "invalid_json", "The body is not valid JSON.", [{ path: "", message: reason }]);
  }
}

/**
 * The raw bytes of a body under a byte limit, whatever its content type: what a signature is
 * computed over (worker/providers/verify.ts), before anything parses it.
 *
 * @throws ApiError 400 `body_too_large` when it exceeds `maxBytes`
 */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);

  const chunks: Uint8Array[] = [];
  let received = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) {
        chunks.length = 0;
        await discardRest(reader);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Reads on to the end of a body, dropping each chunk, up to `REQUEST_LIMITS.maxDiscardBytes`. */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let discarded = 0;
  try {
    while (discarded <= REQUEST_LIMITS.maxDiscardBytes) {
      const { done, value } = await reader.read();
      if (done) return;
      discarded += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away mid-body: there is no connection left to keep usable.
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(400, "body_too_large", `The body exceeds the limit of ${maxBytes} bytes.`, [
    { path: "", message: `must be at most ${maxBytes} bytes; send a smaller body` },
  ]);
}
