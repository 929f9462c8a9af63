// The send pipeline end to end through the webhook channel: enqueue, consume, deliver to a real
// HTTP receiver on loopback, and the exactly-once, retry and dead-letter guarantees around it.
import { describe, expect, it } from "vitest";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { loadRuleset, RulesetLoadError } from "../../dsl/runtime/ruleset";
import { webhookChannel } from "../../worker/channels/webhook";
import { enqueueSends } from "../../worker/sends/enqueue";
import { SEND_LIMITS } from "../../worker/sends/limits";
import { claimSend } from "../../worker/sends/transitions";
import { call, issueKey } from "./helpers";
import { receivedAt, receiverPath, receiverUrl, scriptReceiver, verifyAt } from "./receiver";
import {
  consume,
  consumeDlq,
  RULES,
  retryDelay,
  rulesFrom,
  sendRequest,
  sendRow,
  T0,
  verifyWebhookSignature,
  WEBHOOK_SECRET,
  webhookEnv,
} from "./sends-fixtures";

describe("webhook delivery", () => {
  it("delivers a rendered, signed message once and records it as sent", async () => {
    const path = receiverPath("happy");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ customerId: "cus_happy" })], T0);
    const [sendId] = createdIds;

    const result = await consume(testEnv, [sendId!], T0 + 1_000);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);

    const [request, ...more] = await receivedAt(path);
    expect(more).toEqual([]);
    expect(request!.headers["idempotency-key"]).toBe(sendId);
    expect(request!.headers["content-type"]).toBe("application/json");
    const signature = request!.headers["rebound-signature"]!;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(signature.startsWith(`t=${Math.floor((T0 + 1_000) / 1000)},`)).toBe(true);
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, signature, request!.body, (T0 + 1_000) / 1000)).toBe(
      true,
    );

    const payload = JSON.parse(request!.body);
    expect(payload).toMatchObject({
      id: sendId,
      type: "message.send",
      customer_id: "cus_happy",
      programme: { kind: "dunning", key: "default", occurrence: "inv_1001", step: "day-0" },
      message: {
        key: "dunning_day_0",
        subject: "Your payment did not go through",
        text: "Hi Ada, we could not charge your card ending in 4242. Update it here: https://billing.example.com/update",
      },
    });

    const row = await sendRow(sendId!);
    expect(row).toMatchObject({ status: "sent", attempts: 1, sent_at: T0 + 1_000, last_error: null });
  });

  it("the Node.js verification code in docs/webhooks.md accepts Rebound's signature, and rejects it once stale", async () => {
    const fresh = receiverPath("docs-verify");
    const stale = receiverPath("docs-verify-stale");
    await verifyAt(fresh, WEBHOOK_SECRET, T0 / 1000 + 10);
    await verifyAt(stale, WEBHOOK_SECRET, T0 / 1000 + 301);
    for (const path of [fresh, stale]) {
      const testEnv = webhookEnv(path);
      const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
      await consume(testEnv, createdIds, T0);
    }
    expect((await receivedAt(fresh)).map((request) => request.signatureValid)).toEqual([true]);
    expect((await receivedAt(stale)).map((request) => request.signatureValid)).toEqual([false]);
    const wrongSecret = receiverPath("docs-verify-secret");
    await verifyAt(wrongSecret, "whsec_someone_else", T0 / 1000);
    const testEnv = webhookEnv(wrongSecret);
    await consume(testEnv, (await enqueueSends(testEnv, [sendRequest()], T0)).createdIds, T0);
    expect((await receivedAt(wrongSecret)).map((request) => request.signatureValid)).toEqual([false]);
  });

  it("a receiver rejects a forged body and a replay older than its tolerance", async () => {
    const path = receiverPath("forgery");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    await consume(testEnv, createdIds, T0);
    const [request] = await receivedAt(path);
    const signature = request!.headers["rebound-signature"]!;
    const forged = request!.body.replace("4242", "0000");
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, signature, forged, T0 / 1000)).toBe(false);
    expect(await verifyWebhookSignature("whsec_wrong", signature, request!.body, T0 / 1000)).toBe(false);
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, signature, request!.body, T0 / 1000 + 301)).toBe(
      false,
    );
    expect(await verifyWebhookSignature(WEBHOOK_SECRET, signature, request!.body, T0 / 1000 + 299)).toBe(
      true,
    );
  });
});

describe("exactly once", () => {
  it("enqueueing the same sends twice concurrently writes one row each and delivers each once", async () => {
    const path = receiverPath("concurrent");
    const testEnv = webhookEnv(path);
    const requests = [sendRequest({ customerId: "cus_c1" }), sendRequest({ customerId: "cus_c2" })];
    const [first, second] = await Promise.all([
      enqueueSends(testEnv, requests, T0),
      enqueueSends(testEnv, requests, T0),
    ]);
    expect(first.createdIds.length + second.createdIds.length).toBe(2);
    expect(first.duplicates + second.duplicates).toBe(2);

    const { results } = await testEnv.DB.prepare(
      "SELECT id, customer_id FROM sends WHERE customer_id IN ('cus_c1', 'cus_c2') ORDER BY customer_id",
    ).all<{ id: string; customer_id: string }>();
    expect(results.map((row) => row.customer_id)).toEqual(["cus_c1", "cus_c2"]);

    // Even if both calls' messages reached the consumer, each send is delivered once.
    const ids = results.map((row) => row.id);
    await Promise.all([consume(testEnv, ids, T0), consume(testEnv, ids, T0)]);
    const received = await receivedAt(path);
    expect(received.map((request) => JSON.parse(request.body).customer_id).sort()).toEqual([
      "cus_c1",
      "cus_c2",
    ]);
  });

  it("a repeated request in one call, or on a later tick, creates nothing", async () => {
    const testEnv = webhookEnv(receiverPath("repeat"));
    const request = sendRequest();
    const once = await enqueueSends(testEnv, [request, request], T0);
    expect(once.createdIds).toHaveLength(1);
    expect(once.duplicates).toBe(1);
    const again = await enqueueSends(testEnv, [request], T0 + 300_000);
    expect(again).toEqual({ createdIds: [], duplicates: 1, published: 0, deferred: 0 });
  });

  it("a redelivered queue message delivers nothing more", async () => {
    const path = receiverPath("redeliver");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    await consume(testEnv, createdIds, T0);
    const again = await consume(testEnv, createdIds, T0 + 5_000, 2);
    expect(again.explicitAcks).toHaveLength(1);
    expect(await receivedAt(path)).toHaveLength(1);
    expect((await sendRow(createdIds[0]!)).attempts).toBe(1);
  });

  it("a message consumed while another consumer holds the send is put back until the lease lapses", async () => {
    const path = receiverPath("busy");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const leaseMs = 2_000 + SEND_LIMITS.leaseMarginMs;
    const claim = await claimSend(testEnv.DB, createdIds[0]!, T0, leaseMs);
    expect(claim.kind).toBe("claimed");

    const result = await consume(testEnv, createdIds, T0 + 1_000);
    expect(result.retryMessages).toHaveLength(1);
    expect(retryDelay(result)).toBe(Math.ceil((leaseMs - 1_000) / 1000));
    expect(await receivedAt(path)).toHaveLength(0);
  });

  it("a consumer that died between delivery and ack: the redelivery repeats it with the same idempotency key, and the send ends sent once", async () => {
    const path = receiverPath("crash");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const sendId = createdIds[0]!;

    // The first consumer claims the send and delivers it, then dies before recording or acking.
    const leaseMs = 2_000 + SEND_LIMITS.leaseMarginMs;
    const claim = await claimSend(testEnv.DB, sendId, T0, leaseMs);
    if (claim.kind !== "claimed") throw new Error("expected a claim");
    const channel = webhookChannel({ url: testEnv.WEBHOOK_URL, secret: WEBHOOK_SECRET });
    const firstOutcome = await channel.deliver(
      {
        sendId,
        customerId: claim.row.customer_id,
        recipient: claim.row.recipient,
        messageKey: claim.row.message_key,
        subject: "Your payment did not go through",
        text: "…",
        html: null,
        programme: { kind: "dunning", key: "default", occurrence: "inv_1001", step: "day-0" },
        variables: {},
      },
      { now: T0, timeoutMs: 2_000 },
    );
    expect(firstOutcome.kind).toBe("sent");
    expect((await sendRow(sendId)).status).toBe("sending");

    // The queue redelivers the unacknowledged message after the lease has lapsed.
    const result = await consume(testEnv, [sendId], T0 + leaseMs + 1, 2);
    expect(result.explicitAcks).toHaveLength(1);

    const received = await receivedAt(path);
    expect(received).toHaveLength(2);
    expect(received.map((request) => request.headers["idempotency-key"])).toEqual([sendId, sendId]);
    // The receiver dedupes on the key: the second request is a replay, not a second message.
    expect(received.map((request) => request.replayed)).toEqual([false, true]);
    const row = await sendRow(sendId);
    expect(row).toMatchObject({ status: "sent", attempts: 2 });
    // A third redelivery finds it sent.
    await consume(testEnv, [sendId], T0 + leaseMs + 10_000, 3);
    expect(await receivedAt(path)).toHaveLength(2);
  });
});

describe("retries and dead letters", () => {
  it("a 500 is retried with backoff, and the next attempt's 200 sends it", async () => {
    const path = receiverPath("500-then-200");
    await scriptReceiver(path, [{ status: 500, body: { error: "database unavailable" } }]);
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const sendId = createdIds[0]!;

    const first = await consume(testEnv, [sendId], T0);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toHaveLength(1);
    const delay = retryDelay(first);
    expect(delay).toBeGreaterThanOrEqual(SEND_LIMITS.backoffBaseSeconds / 2);
    expect(delay).toBeLessThanOrEqual(SEND_LIMITS.backoffBaseSeconds);
    const failed = await sendRow(sendId);
    expect(failed).toMatchObject({ status: "failed", attempts: 1, next_attempt_at: T0 + delay * 1000 });
    expect(failed.last_error).toContain("HTTP 500");
    expect(failed.last_error).toContain("database unavailable");

    const second = await consume(testEnv, [sendId], T0 + delay * 1000, 2);
    expect(second.explicitAcks).toHaveLength(1);
    expect(await sendRow(sendId)).toMatchObject({ status: "sent", attempts: 2 });
    expect(await receivedAt(path)).toHaveLength(2);
  });

  it("a receiver that always answers 500 makes the send dead after the attempt limit, with the error visible at GET /v1/sends", async () => {
    const path = receiverPath("always-500");
    await scriptReceiver(
      path,
      Array.from({ length: SEND_LIMITS.maxAttempts }, () => ({
        status: 503,
        body: { error: "maintenance" },
      })),
    );
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ customerId: "cus_always_500" })], T0);
    const sendId = createdIds[0]!;

    let now = T0;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= SEND_LIMITS.maxAttempts; attempt++) {
      const result = await consume(testEnv, [sendId], now, attempt);
      if (attempt < SEND_LIMITS.maxAttempts) {
        expect(result.retryMessages).toHaveLength(1);
        const delay = retryDelay(result);
        delays.push(delay);
        now += delay * 1000;
      } else {
        expect(result.explicitAcks).toHaveLength(1);
      }
    }
    // Each wait is about twice the one before (exponential backoff with jitter in the upper half).
    for (let i = 1; i < delays.length; i++) {
      const base = SEND_LIMITS.backoffBaseSeconds * 2 ** i;
      expect(delays[i]).toBeGreaterThanOrEqual(base / 2);
      expect(delays[i]).toBeLessThanOrEqual(base);
    }
    expect(await receivedAt(path)).toHaveLength(SEND_LIMITS.maxAttempts);

    const key = await issueKey(["admin"]);
    const { status, body } = await call("/v1/sends?status=dead&customer_id=cus_always_500", { key });
    expect(status).toBe(200);
    expect(body.sends).toHaveLength(1);
    expect(body.sends[0]).toMatchObject({ id: sendId, status: "dead", attempts: SEND_LIMITS.maxAttempts });
    expect(body.sends[0].last_error).toContain(`gave up after ${SEND_LIMITS.maxAttempts} attempts`);
    expect(body.sends[0].last_error).toContain("HTTP 503");
  });

  it("a 4xx that no retry can fix makes the send dead at once", async () => {
    const path = receiverPath("410");
    await scriptReceiver(path, [{ status: 410, body: { error: "endpoint removed" } }]);
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const result = await consume(testEnv, createdIds, T0);
    expect(result.explicitAcks).toHaveLength(1);
    const row = await sendRow(createdIds[0]!);
    expect(row).toMatchObject({ status: "dead", attempts: 1 });
    expect(row.last_error).toContain("HTTP 410");
  });

  it("a 429 waits at least as long as Retry-After says", async () => {
    const path = receiverPath("429");
    await scriptReceiver(path, [{ status: 429, headers: { "retry-after": "600" } }]);
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const result = await consume(testEnv, createdIds, T0);
    expect(retryDelay(result)).toBe(600);
    expect((await sendRow(createdIds[0]!)).status).toBe("failed");
  });

  it("a receiver that hangs times out; the send is failed and retried, then sent", async () => {
    const path = receiverPath("hang");
    await scriptReceiver(path, [{ hang: true }]);
    const testEnv = webhookEnv(path, { DELIVERY_TIMEOUT_MS: "300" });
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const sendId = createdIds[0]!;

    const first = await consume(testEnv, [sendId], T0);
    expect(first.retryMessages).toHaveLength(1);
    const failed = await sendRow(sendId);
    expect(failed).toMatchObject({ status: "failed", attempts: 1 });
    expect(failed.last_error).toContain("timed out after 300 ms");

    await consume(testEnv, [sendId], T0 + retryDelay(first) * 1000, 2);
    expect(await sendRow(sendId)).toMatchObject({ status: "sent", attempts: 2 });
    const received = await receivedAt(path);
    expect(received.map((request) => request.headers["idempotency-key"])).toEqual([sendId, sendId]);
  });

  it("an unreachable receiver is a retryable network error", async () => {
    // Port 9 on loopback (discard) has no listener here: the connection is refused.
    const testEnv = webhookEnv("/unused", { WEBHOOK_URL: "http://127.0.0.1:9/hook" });
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const result = await consume(testEnv, createdIds, T0);
    expect(result.retryMessages).toHaveLength(1);
    const row = await sendRow(createdIds[0]!);
    expect(row.status).toBe("failed");
    expect(row.last_error).toContain("network error");
  });

  it("the dead-letter consumer marks a send the queue gave up on dead, keeping its last error", async () => {
    const path = receiverPath("dlq");
    await scriptReceiver(path, [{ status: 500, body: "boom" }]);
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest(), sendRequest()], T0);
    const [failedId, queuedId] = createdIds;
    await consume(testEnv, [failedId!], T0);

    const result = await consumeDlq(testEnv, [failedId!, queuedId!], T0 + 60_000);
    expect(result.explicitAcks).toHaveLength(2);
    const failed = await sendRow(failedId!);
    expect(failed.status).toBe("dead");
    expect(failed.last_error).toContain("HTTP 500");
    const queued = await sendRow(queuedId!);
    expect(queued.status).toBe("dead");
    expect(queued.last_error).toContain("the queue gave up");
    // A dead send is never delivered by a late message.
    await consume(testEnv, [queuedId!], T0 + 120_000);
    expect(await receivedAt(path)).toHaveLength(1);
  });

  it("the dead-letter consumer leaves a sent send alone and waits out a live claim", async () => {
    const path = receiverPath("dlq-sent");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest(), sendRequest()], T0);
    const [sentId, claimedId] = createdIds;
    await consume(testEnv, [sentId!], T0);
    await claimSend(testEnv.DB, claimedId!, T0, 30_000);

    const result = await consumeDlq(testEnv, [sentId!, claimedId!], T0 + 10_000);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.delays).toEqual([null, 20]);
    expect((await sendRow(sentId!)).status).toBe("sent");
    expect((await sendRow(claimedId!)).status).toBe("sending");
  });
});

describe("configuration and rendering problems are dead sends with the reason", () => {
  it("a webhook without a secret is never sent unsigned", async () => {
    const path = receiverPath("no-secret");
    const testEnv = webhookEnv(path, { WEBHOOK_SECRET: undefined });
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    await consume(testEnv, createdIds, T0);
    const row = await sendRow(createdIds[0]!);
    expect(row.status).toBe("dead");
    expect(row.last_error).toContain("WEBHOOK_SECRET is not set");
    expect(await receivedAt(path)).toHaveLength(0);
  });

  it("a message key missing from the ruleset makes the send dead", async () => {
    const path = receiverPath("bad-template");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ messageKey: "no_such_message" })], T0);
    await consume(testEnv, createdIds, T0);
    const [missing] = await Promise.all(createdIds.map((id) => sendRow(id)));
    expect(missing).toMatchObject({ status: "dead" });
    expect(missing!.last_error).toContain('message "no_such_message" is not in the ruleset');
    expect(await receivedAt(path)).toHaveLength(0);
  });

  it("a template that does not parse never reaches a send: the rules refuse it, and so does loading them", () => {
    // Templates are parsed once, when the ruleset is loaded (dsl/runtime/ruleset.ts), so the
    // consumer cannot meet a broken one and send a blank email.
    expect(() => rulesFrom(`messages:\n  broken: { subject: Hello, body: "Hi {{ first_name " }\n`)).toThrow(
      "template_syntax",
    );
    const ir = structuredClone(RULES.ir) as RulesetIR;
    ir.messages.push({ key: "broken", channel: null, subject: "Hello", body: "Hi {{ first_name " });
    expect(() => loadRuleset(ir)).toThrow(RulesetLoadError);
    expect(() => loadRuleset(ir)).toThrow("not closed");
  });

  it("a template without a subject gets the company name, and company_name comes from COMPANY_NAME", async () => {
    const path = receiverPath("company");
    const testEnv = webhookEnv(path, { COMPANY_NAME: "Acme Analytics" });
    const { createdIds } = await enqueueSends(
      testEnv,
      [sendRequest({ messageKey: "no_subject", variables: {} })],
      T0,
    );
    await consume(testEnv, createdIds, T0);
    const [request] = await receivedAt(path);
    expect(JSON.parse(request!.body).message).toMatchObject({
      subject: "Acme Analytics",
      text: "Thanks for sticking with Acme Analytics.",
    });
  });
});

it("the receiver URL is loopback (the tests never leave the machine)", () => {
  expect(new URL(receiverUrl()).hostname).toBe("127.0.0.1");
});
