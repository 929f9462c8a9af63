// The email channels against their real request shapes: Resend and Postmark are played by the
// loopback receiver (which answers like the providers, including their 401/422 checks), the
// cloudflare_email channel uses miniflare's send_email binding, and the outbox stores in D1.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { enqueueSends } from "../../worker/sends/enqueue";
import { SEND_LIMITS } from "../../worker/sends/limits";
import { claimSend } from "../../worker/sends/transitions";
import { call, issueKey } from "./helpers";
import { receivedAt, receiverPath, receiverUrl, scriptReceiver } from "./receiver";
import { consume, envWith, retryDelay, sendRequest, sendRow, T0 } from "./sends-fixtures";

const FROM = "Acme Billing <billing@acme.example>";

function resendEnv(base: string, overrides = {}) {
  return envWith({
    DEFAULT_CHANNEL: "resend",
    RESEND_API_KEY: "re_test_key_123",
    RESEND_BASE_URL: `${receiverUrl()}${base}`,
    EMAIL_FROM: FROM,
    DELIVERY_TIMEOUT_MS: "2000",
    ...overrides,
  });
}

function postmarkEnv(base: string, overrides = {}) {
  return envWith({
    DEFAULT_CHANNEL: "postmark",
    POSTMARK_TOKEN: "pm-server-token-456",
    POSTMARK_BASE_URL: `${receiverUrl()}${base}`,
    EMAIL_FROM: FROM,
    DELIVERY_TIMEOUT_MS: "2000",
    ...overrides,
  });
}

describe("resend", () => {
  it("POSTs /emails with the Bearer key, the send id as Idempotency-Key, and records Resend's email id", async () => {
    const base = receiverPath("resend");
    const testEnv = resendEnv(base);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ recipient: "ada@example.com" })], T0);
    const sendId = createdIds[0]!;
    await consume(testEnv, [sendId], T0);

    const [request, ...more] = await receivedAt(`${base}/emails`);
    expect(more).toEqual([]);
    expect(request!.method).toBe("POST");
    expect(request!.headers.authorization).toBe("Bearer re_test_key_123");
    expect(request!.headers["idempotency-key"]).toBe(sendId);
    expect(request!.answeredStatus).toBe(200);
    expect(JSON.parse(request!.body)).toEqual({
      from: FROM,
      to: ["ada@example.com"],
      subject: "Your payment did not go through",
      text: "Hi Ada, we could not charge your card ending in 4242. Update it here: https://billing.example.com/update",
      tags: [
        { name: "programme", value: "dunning" },
        { name: "message", value: "dunning_day_0" },
      ],
    });
    const row = await sendRow(sendId);
    expect(row.status).toBe("sent");
    expect(row.provider_message_id).toMatch(/^re_\d+$/);
  });

  it("after a crash between delivery and ack, the repeat carries the same key and Resend answers with the same email", async () => {
    const base = receiverPath("resend-crash");
    const testEnv = resendEnv(base);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const sendId = createdIds[0]!;

    // A first consumer delivered (the receiver got it) but died before recording or acking.
    const leaseMs = 2_000 + SEND_LIMITS.leaseMarginMs;
    await consume(testEnv, [sendId], T0);
    const sent = await sendRow(sendId);
    await testEnv.DB.prepare(
      "UPDATE sends SET status = 'sending', lease_expires_at = ?, provider_message_id = NULL, sent_at = NULL WHERE id = ?",
    )
      .bind(T0 + leaseMs, sendId)
      .run();

    await consume(testEnv, [sendId], T0 + leaseMs, 2);
    const requests = await receivedAt(`${base}/emails`);
    expect(requests.map((request) => request.headers["idempotency-key"])).toEqual([sendId, sendId]);
    expect(requests.map((request) => request.replayed)).toEqual([false, true]);
    const row = await sendRow(sendId);
    expect(row).toMatchObject({ status: "sent", attempts: 2, provider_message_id: sent.provider_message_id });
  });

  it("a request Resend refuses (422 validation_error) is dead at once with Resend's message", async () => {
    const base = receiverPath("resend-422");
    const testEnv = resendEnv(base);
    // No recipient in the request body would be refused by Resend; the channel refuses before sending.
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ recipient: null })], T0);
    await consume(testEnv, createdIds, T0);
    expect(await sendRow(createdIds[0]!)).toMatchObject({
      status: "dead",
      last_error: "resend channel: the send has no recipient",
    });

    await scriptReceiver(`${base}/emails`, [
      { status: 422, body: { statusCode: 422, name: "validation_error", message: "Invalid `to` field." } },
    ]);
    const second = await enqueueSends(testEnv, [sendRequest({ recipient: "not-an-address" })], T0);
    await consume(testEnv, second.createdIds, T0);
    const row = await sendRow(second.createdIds[0]!);
    expect(row.status).toBe("dead");
    expect(row.last_error).toContain("HTTP 422");
    expect(row.last_error).toContain("Invalid `to` field.");
  });

  it("a wrong API key (401) is dead at once; a 500 is retried", async () => {
    const base = receiverPath("resend-401");
    const { createdIds } = await enqueueSends(resendEnv(base, { RESEND_API_KEY: "" }), [sendRequest()], T0);
    await consume(resendEnv(base, { RESEND_API_KEY: "" }), createdIds, T0);
    expect(await sendRow(createdIds[0]!)).toMatchObject({
      status: "dead",
      last_error: "resend channel: RESEND_API_KEY is not set",
    });

    await scriptReceiver(`${base}/emails`, [
      { status: 401, body: { name: "restricted_api_key" } },
      { status: 500 },
    ]);
    const testEnv = resendEnv(base);
    const more = await enqueueSends(testEnv, [sendRequest(), sendRequest()], T0);
    await consume(testEnv, [more.createdIds[0]!], T0);
    expect((await sendRow(more.createdIds[0]!)).status).toBe("dead");
    const retried = await consume(testEnv, [more.createdIds[1]!], T0);
    expect(retryDelay(retried)).toBeGreaterThan(0);
    expect((await sendRow(more.createdIds[1]!)).status).toBe("failed");
  });

  it("a Resend timeout is retried (the idempotency key makes the repeat safe)", async () => {
    const base = receiverPath("resend-hang");
    await scriptReceiver(`${base}/emails`, [{ hang: true }]);
    const testEnv = resendEnv(base, { DELIVERY_TIMEOUT_MS: "300" });
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const first = await consume(testEnv, createdIds, T0);
    expect((await sendRow(createdIds[0]!)).status).toBe("failed");
    // The retry meets a healthy receiver: give it the normal limit, so a loaded machine's slow
    // answer is not mistaken for a second hang.
    await consume(resendEnv(base), createdIds, T0 + retryDelay(first) * 1000, 2);
    expect(await sendRow(createdIds[0]!)).toMatchObject({ status: "sent", attempts: 2 });
  });
});

describe("postmark", () => {
  it("POSTs /email with X-Postmark-Server-Token and Postmark's field names, and records the MessageID", async () => {
    const base = receiverPath("postmark");
    const testEnv = postmarkEnv(base);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ recipient: "grace@example.com" })], T0);
    const sendId = createdIds[0]!;
    await consume(testEnv, [sendId], T0);

    const [request] = await receivedAt(`${base}/email`);
    expect(request!.headers["x-postmark-server-token"]).toBe("pm-server-token-456");
    expect(request!.headers.accept).toBe("application/json");
    expect(request!.answeredStatus).toBe(200);
    expect(JSON.parse(request!.body)).toEqual({
      From: FROM,
      To: "grace@example.com",
      Subject: "Your payment did not go through",
      TextBody:
        "Hi Ada, we could not charge your card ending in 4242. Update it here: https://billing.example.com/update",
      Tag: "dunning_day_0",
      Metadata: { rebound_send_id: sendId, rebound_programme: "dunning" },
      MessageStream: "outbound",
    });
    const row = await sendRow(sendId);
    expect(row.status).toBe("sent");
    expect(row.provider_message_id).toMatch(/^pm-\d+$/);
  });

  it("an inactive recipient (422, ErrorCode 406) is dead at once with Postmark's message", async () => {
    const base = receiverPath("postmark-406");
    await scriptReceiver(`${base}/email`, [
      {
        status: 422,
        body: {
          ErrorCode: 406,
          Message: "You tried to send to a recipient that has been marked as inactive.",
        },
      },
    ]);
    const testEnv = postmarkEnv(base);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    await consume(testEnv, createdIds, T0);
    const row = await sendRow(createdIds[0]!);
    expect(row.status).toBe("dead");
    expect(row.last_error).toContain("marked as inactive");
  });

  it("has no idempotency key: a timeout is not repeated, the send is dead with 'outcome unknown'", async () => {
    const base = receiverPath("postmark-hang");
    await scriptReceiver(`${base}/email`, [{ hang: true }]);
    const testEnv = postmarkEnv(base, { DELIVERY_TIMEOUT_MS: "300" });
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const result = await consume(testEnv, createdIds, T0);
    expect(result.explicitAcks).toHaveLength(1);
    const row = await sendRow(createdIds[0]!);
    expect(row.status).toBe("dead");
    expect(row.last_error).toContain("outcome unknown: timed out after 300 ms");
    expect(row.last_error).toContain("no idempotency key");
    expect(await receivedAt(`${base}/email`)).toHaveLength(1);
  });

  it("has no idempotency key: after a crash mid-delivery the redelivery does not send again", async () => {
    const base = receiverPath("postmark-crash");
    const testEnv = postmarkEnv(base);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const sendId = createdIds[0]!;
    const leaseMs = 2_000 + SEND_LIMITS.leaseMarginMs;
    await claimSend(testEnv.DB, sendId, T0, leaseMs);

    await consume(testEnv, [sendId], T0 + leaseMs, 2);
    const row = await sendRow(sendId);
    expect(row.status).toBe("dead");
    expect(row.last_error).toContain("outcome unknown: attempt 1 stopped during delivery");
    expect(await receivedAt(`${base}/email`)).toHaveLength(0);
  });

  it("a 500 from Postmark (an answer, not a lost request) is retried", async () => {
    const base = receiverPath("postmark-500");
    await scriptReceiver(`${base}/email`, [
      { status: 500, body: { ErrorCode: 100, Message: "Maintenance" } },
    ]);
    const testEnv = postmarkEnv(base);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const first = await consume(testEnv, createdIds, T0);
    expect((await sendRow(createdIds[0]!)).status).toBe("failed");
    await consume(testEnv, createdIds, T0 + retryDelay(first) * 1000, 2);
    expect((await sendRow(createdIds[0]!)).status).toBe("sent");
  });
});

describe("cloudflare_email", () => {
  it("sends through the send_email binding and records its message id", async () => {
    const testEnv = envWith({ DEFAULT_CHANNEL: "cloudflare_email", EMAIL_FROM: "billing@acme.example" });
    expect(testEnv.EMAIL).toBeDefined();
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ recipient: "ada@example.com" })], T0);
    await consume(testEnv, createdIds, T0);
    const row = await sendRow(createdIds[0]!);
    expect(row.status).toBe("sent");
    expect(row.provider_message_id).toContain("@acme.example");
  });

  it("without a sender or a recipient the send is dead with the reason", async () => {
    const noSender = envWith({ DEFAULT_CHANNEL: "cloudflare_email", EMAIL_FROM: undefined });
    const first = await enqueueSends(noSender, [sendRequest()], T0);
    await consume(noSender, first.createdIds, T0);
    expect((await sendRow(first.createdIds[0]!)).last_error).toBe(
      "cloudflare_email channel: EMAIL_FROM is not set",
    );

    const noRecipient = envWith({ DEFAULT_CHANNEL: "cloudflare_email", EMAIL_FROM: "billing@acme.example" });
    const second = await enqueueSends(noRecipient, [sendRequest({ recipient: null })], T0);
    await consume(noRecipient, second.createdIds, T0);
    expect(await sendRow(second.createdIds[0]!)).toMatchObject({
      status: "dead",
      last_error: "cloudflare_email channel: the send has no recipient",
    });
  });
});

describe("outbox", () => {
  it("stores the rendered message in D1, readable at GET /v1/outbox, once however often it is delivered", async () => {
    const testEnv = envWith({ DEFAULT_CHANNEL: "outbox" });
    const { createdIds } = await enqueueSends(
      testEnv,
      [sendRequest({ customerId: "cus_outbox_1" }), sendRequest({ customerId: "cus_outbox_2" })],
      T0,
    );
    await consume(testEnv, createdIds, T0);
    // A crash after the insert but before the ack: the repeat stores nothing new.
    await testEnv.DB.prepare("UPDATE sends SET status = 'sending', lease_expires_at = ? WHERE id = ?")
      .bind(T0, createdIds[0]!)
      .run();
    await consume(testEnv, [createdIds[0]!], T0 + 1, 2);
    expect((await sendRow(createdIds[0]!)).status).toBe("sent");

    const key = await issueKey(["admin"]);
    const all = await call("/v1/outbox", { key });
    expect(all.status).toBe(200);
    expect(all.body.messages.map((message: { customer_id: string }) => message.customer_id)).toEqual([
      "cus_outbox_2",
      "cus_outbox_1",
    ]);
    const mine = await call("/v1/outbox?customer_id=cus_outbox_1", { key });
    expect(mine.body.messages).toEqual([
      {
        send_id: createdIds[0],
        customer_id: "cus_outbox_1",
        recipient: expect.stringContaining("@example.com"),
        message_key: "dunning_day_0",
        subject: "Your payment did not go through",
        text: "Hi Ada, we could not charge your card ending in 4242. Update it here: https://billing.example.com/update",
        html: null,
        programme: { kind: "dunning", key: "default", occurrence: "inv_1001", step: "day-0" },
        delivered_at: new Date(T0).toISOString(),
      },
    ]);
    expect(mine.body.next_cursor).toBeNull();
  });

  it("is the default channel in wrangler.toml, so npm start needs no account", () => {
    expect(env.DEFAULT_CHANNEL).toBe("outbox");
  });
});
