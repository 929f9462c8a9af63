// Smoke test: a body that turns out too large only while it streams in (chunked, no Content-Length)
// is refused with 400 and leaves the Worker answering. Under `wrangler dev` every request rides a
// pooled connection into workerd; a half-read body left on it made the next request hang or fail
// with 503, which the Workers vitest pool cannot show. A body past the bounded drain (18.5 MiB here)
// must not break it either, nor may a caller with an unknown key make the Worker read a body at all.
import { describe, expect, it } from "vitest";
import { useDevServer } from "./dev-server";

const smoke = useDevServer("rebound-smoke-oversized-");

/** Well past the 1 MiB limit, in 64 KiB chunks. */
const OVERSIZED_BYTES = 2 * 1024 * 1024;
/** Past the 16 MiB the Worker used to drain before giving up, which left the connection hanging. */
const HUGE_BYTES = 18.5 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
/** A healthy server answers these in milliseconds; the bug made them wait 15 to 30 s. */
const PROMPT_MS = 5_000;

/**
 * A JSON body that is valid up to its size, streamed so fetch sends it chunked; generated chunk by
 * chunk as the server reads, never held in memory.
 */
function oversizedChunkedBody(bytes = OVERSIZED_BYTES): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const padding = encoder.encode(" ".repeat(CHUNK_BYTES));
  let sent = 0;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode('{"customer_id":"smoke-big","context":"in_app"'));
    },
    pull(controller) {
      if (sent >= bytes) {
        controller.enqueue(encoder.encode("}"));
        controller.close();
        return;
      }
      controller.enqueue(padding);
      sent += padding.byteLength;
    },
  });
}

async function postChunked(
  path: string,
  { key = smoke.adminKey, bytes = OVERSIZED_BYTES } = {},
): Promise<{ status: number; body: { error?: { code: string } } }> {
  const response = await fetch(smoke.url + path, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: oversizedChunkedBody(bytes),
    duplex: "half",
    signal: AbortSignal.timeout(30_000),
  } as RequestInit);
  return { status: response.status, body: await response.json() };
}

async function promptly(path: string, init: RequestInit = {}): Promise<Response> {
  return await fetch(smoke.url + path, { ...init, signal: AbortSignal.timeout(PROMPT_MS) });
}

describe("an oversized chunked body under wrangler dev", () => {
  for (const path of ["/v1/decisions", "/v1/events"]) {
    it(`is refused on ${path}, and the next requests still answer promptly`, async () => {
      for (let round = 0; round < 3; round++) {
        const refused = await postChunked(path);
        expect(refused.status).toBe(400);
        expect(refused.body.error?.code).toBe("body_too_large");

        const health = await promptly("/healthz");
        expect(health.status).toBe(200);
        const decided = await promptly("/v1/decisions", {
          method: "POST",
          headers: { authorization: `Bearer ${smoke.adminKey}`, "content-type": "application/json" },
          body: JSON.stringify({ customer_id: "smoke-after-big", context: "in_app" }),
        });
        expect(decided.status).toBe(200);
        expect(await decided.json()).toMatchObject({ reason_code: "unknown_customer" });
      }
    });
  }

  it("refuses an unknown key before reading a huge chunked body, and the next requests still answer", async () => {
    for (const path of ["/v1/decisions", "/v1/events"]) {
      const refused = await postChunked(path, { key: "not-a-key", bytes: HUGE_BYTES });
      expect(refused.status).toBe(401);
      expect(refused.body.error?.code).toBe("unauthorized");
      const health = await promptly("/healthz");
      expect(health.status).toBe(200);
    }
  });

  it("refuses a huge chunked body from a valid key, and the next requests still answer", async () => {
    const refused = await postChunked("/v1/decisions", { bytes: HUGE_BYTES });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe("body_too_large");
    const health = await promptly("/healthz");
    expect(health.status).toBe(200);
  });
});
