// The decision routes look the API key up inside the decision's read, which comes after the body is
// read. A body sent without a Content-Length (chunked) is sized only by reading it, and a refused
// one is drained to keep the connection usable: so for such a body the key is checked first, and a
// caller without a valid key never makes the Worker read its body.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REQUEST_LIMITS } from "../../worker/limits";
import { at, payingCustomer, storedDecisions, useDecisionKeys } from "./decision-fixtures";

const keys = useDecisionKeys();

const CHUNK = new TextEncoder().encode(" ".repeat(64 * 1024));

/** An endless chunked body that counts how much of it the Worker pulled. */
function endlessBody(): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"customer_id":"cb-endless","context":"in_app"'));
    },
    pull(controller) {
      pulled += CHUNK.byteLength;
      controller.enqueue(CHUNK);
    },
  });
  return { body, pulled: () => pulled };
}

/** A small, valid decision body sent as a stream, so it has no Content-Length. */
function chunkedBody(json: unknown): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(0, 10));
      controller.enqueue(bytes.slice(10));
      controller.close();
    },
  });
}

async function post(key: string, body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}) {
  const response = await exports.default.fetch("http://rebound.test/v1/decisions", {
    method: "POST",
    headers: { ...headers, authorization: `Bearer ${key}`, "content-type": "application/json" },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
}

describe("a chunked body on POST /v1/decisions", () => {
  it("is not read for an unknown key: 401 before the body, however long it is", async () => {
    const endless = endlessBody();
    const refused = await post("not-a-key", endless.body);
    expect(refused.status).toBe(401);
    expect(refused.body.error?.code).toBe("unauthorized");
    // Only what the stream queued ahead on its own, far below the 1 MiB body limit.
    expect(endless.pulled()).toBeLessThan(4 * CHUNK.byteLength);
    expect(await storedDecisions("cb-endless")).toBe(0);
  });

  it("is not read for a key without the decisions scope: 403", async () => {
    const endless = endlessBody();
    const refused = await post(keys.writer, endless.body);
    expect(refused.status).toBe(403);
    expect(endless.pulled()).toBeLessThan(4 * CHUNK.byteLength);
  });

  it("is read and refused as too large for a valid key, within the bounded drain", async () => {
    const endless = endlessBody();
    const refused = await post(keys.reader, endless.body);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe("body_too_large");
    expect(endless.pulled()).toBeGreaterThan(REQUEST_LIMITS.maxBodyBytes);
    expect(endless.pulled()).toBeLessThanOrEqual(
      REQUEST_LIMITS.maxBodyBytes + REQUEST_LIMITS.maxDiscardBytes + 4 * CHUNK.byteLength,
    );
  });

  it("decides as usual for a valid key", async () => {
    await payingCustomer(keys.writer, "cb-valid");
    const decided = await post(keys.reader, chunkedBody({ customer_id: "cb-valid", context: "in_app" }));
    expect(decided.status).toBe(200);
    expect(await storedDecisions("cb-valid")).toBe(1);
  });

  it("still refuses X-Rebound-Now from a key that is not admin", async () => {
    const refused = await post(keys.reader, chunkedBody({ customer_id: "cb-now", context: "in_app" }), {
      "x-rebound-now": at(0),
    });
    expect(refused.status).toBe(403);
    expect(await storedDecisions("cb-now")).toBe(0);
  });
});
