/**
 * Reads a request's JSON body under a byte limit, without buffering more than the limit.
 */
import { ApiError } from "./errors";

/**
 * Parses the body of `request` as JSON.
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
        await reader.cancel();
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
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unreadable";
    throw new ApiError(400, "invalid_json", "The body is not valid JSON.", [{ path: "", message: reason }]);
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(400, "body_too_large", `The body exceeds the limit of ${maxBytes} bytes.`, [
    { path: "", message: `must be at most ${maxBytes} bytes; split large batches` },
  ]);
}
