// Consumer edge cases: malformed messages, deferred sends arriving early, fencing of a consumer
// whose lease lapsed, the attempt limit under repeated takeovers, the consumer's D1 round trips per
// batch, and the backoff schedule.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { retryDelaySeconds } from "../../worker/sends/backoff";
import { consumeSends } from "../../worker/sends/consume";
import { enqueueSends } from "../../worker/sends/enqueue";
import { SEND_LIMITS } from "../../worker/sends/limits";
import { SendConfigError, sendSettings } from "../../worker/sends/settings";
import { claimSend, markSent } from "../../worker/sends/transitions";
import { receivedAt, receiverPath, scriptReceiver } from "./receiver";
import { consume, envWith, RULES, retryDelay, sendRequest, sendRow, T0, webhookEnv } from "./sends-fixtures";

describe("messages the consumer cannot use", () => {
  it("acknowledges a malformed or unknown-version body (retrying cannot fix it) and a message for a missing send", async () => {
    const testEnv = webhookEnv(receiverPath("malformed"));
    const batch = createMessageBatch("rebound-sends", [
      { id: "m1", timestamp: new Date(T0), attempts: 1, body: "not an object" },
      { id: "m2", timestamp: new Date(T0), attempts: 1, body: { v: 2, sendId: "snd_x" } },
      { id: "m3", timestamp: new Date(T0), attempts: 1, body: { v: 1 } },
      {
        id: "m4",
        timestamp: new Date(T0),
        attempts: 1,
        body: { v: 1, sendId: "snd_000000000000aaaaaaaaaaaaaaaa" },
      },
    ]);
    const ctx = createExecutionContext();
    const decisions = await consumeSends(batch, testEnv, { clock: () => T0, ruleset: RULES });
    expect(decisions).toEqual([{ kind: "ack" }, { kind: "ack" }, { kind: "ack" }, { kind: "ack" }]);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2", "m3", "m4"]);
  });
});

describe("deferred sends", () => {
  it("a message that arrives before the send's notBefore is put back until then, and delivered when due", async () => {
    const path = receiverPath("early");
    const testEnv = webhookEnv(path);
    const dueAt = T0 + 2 * 3_600_000;
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ notBefore: dueAt })], T0);
    const early = await consume(testEnv, createdIds, T0);
    expect(retryDelay(early)).toBe(2 * 3_600);
    expect(await sendRow(createdIds[0]!)).toMatchObject({ status: "queued", attempts: 0 });
    expect(await receivedAt(path)).toHaveLength(0);

    await consume(testEnv, createdIds, dueAt, 2);
    expect(await sendRow(createdIds[0]!)).toMatchObject({ status: "sent", attempts: 1 });
  });
});

describe("claims", () => {
  it("a consumer whose lease lapsed cannot record an outcome over the one that took the send over", async () => {
    const path = receiverPath("fencing");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const sendId = createdIds[0]!;
    const slow = await claimSend(testEnv.DB, sendId, T0, 1_000);
    if (slow.kind !== "claimed") throw new Error("expected a claim");
    const fast = await claimSend(testEnv.DB, sendId, T0 + 1_000, 1_000);
    expect(fast).toMatchObject({ kind: "claimed", resumed: true });
    if (fast.kind !== "claimed") throw new Error("expected a takeover");

    expect(await markSent(testEnv.DB, slow.row, T0 + 1_500, "late")).toBe(false);
    expect(await markSent(testEnv.DB, fast.row, T0 + 1_500, "on time")).toBe(true);
    expect(await sendRow(sendId)).toMatchObject({
      status: "sent",
      attempts: 2,
      provider_message_id: "on time",
    });
  });

  it("two consumers racing for one send: exactly one claims it", async () => {
    const testEnv = webhookEnv(receiverPath("race"));
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => claimSend(testEnv.DB, createdIds[0]!, T0, 30_000)),
    );
    expect(claims.filter((claim) => claim.kind === "claimed")).toHaveLength(1);
    expect(claims.filter((claim) => claim.kind === "busy")).toHaveLength(7);
  });

  it("a send taken over again and again stops at the attempt limit instead of looping", async () => {
    const path = receiverPath("takeovers");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const sendId = createdIds[0]!;
    let now = T0;
    for (let i = 0; i < SEND_LIMITS.maxAttempts; i++) {
      await claimSend(testEnv.DB, sendId, now, 1_000);
      now += 1_000;
    }
    await consume(testEnv, [sendId], now, SEND_LIMITS.maxAttempts + 1);
    const row = await sendRow(sendId);
    expect(row.status).toBe("dead");
    expect(row.last_error).toContain(`gave up after ${SEND_LIMITS.maxAttempts} attempts`);
    expect(await receivedAt(path)).toHaveLength(0);
  });
});

describe("batches", () => {
  it("a batch of 25 sends is claimed together and each is delivered once, even with the same send twice in it", async () => {
    const path = receiverPath("batch");
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(
      testEnv,
      Array.from({ length: 24 }, () => sendRequest()),
      T0,
    );
    const result = await consume(testEnv, [...createdIds, createdIds[0]!], T0);
    expect(result.explicitAcks).toHaveLength(24);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.decisions[24]).toMatchObject({ kind: "retry" });
    const rows = await Promise.all(createdIds.map((id) => sendRow(id)));
    expect(rows.every((row) => row.status === "sent" && row.attempts === 1)).toBe(true);
    const received = await receivedAt(path);
    expect(received).toHaveLength(24);
    expect(new Set(received.map((request) => request.headers["idempotency-key"])).size).toBe(24);
  });
});

describe("the consumer's share of D1", () => {
  /** `env.DB` with its round trips counted: statements run alone, and batches. */
  function countingDb(options: { failBatches?: boolean } = {}) {
    const counts = { prepared: 0, batches: 0, batched: 0 };
    const db = {
      prepare: (query: string) => {
        counts.prepared += 1;
        return env.DB.prepare(query);
      },
      batch: async <T>(statements: D1PreparedStatement[]) => {
        counts.batches += 1;
        counts.batched += statements.length;
        if (options.failBatches) throw new Error("D1_ERROR: the database is unavailable");
        return env.DB.batch<T>(statements);
      },
      exec: (query: string) => env.DB.exec(query),
      withSession: (constraint?: string) => env.DB.withSession(constraint),
      dump: () => env.DB.dump(),
    } as D1Database;
    return { db, roundTrips: () => counts.prepared - counts.batched + counts.batches };
  }

  async function outboxRows(sendIds: readonly string[]): Promise<number> {
    const row = await env.DB.prepare(
      "SELECT count(*) AS n FROM outbox WHERE id IN (SELECT value FROM json_each(?))",
    )
      .bind(JSON.stringify(sendIds))
      .first<{ n: number }>();
    return row?.n ?? 0;
  }

  it("a batch of 25 outbox sends costs two D1 round trips: the claim, and one batch storing every message with its sent status", async () => {
    const counted = countingDb();
    const testEnv = envWith({ DEFAULT_CHANNEL: "outbox", DB: counted.db });
    const { createdIds } = await enqueueSends(
      testEnv,
      Array.from({ length: 25 }, () => sendRequest()),
      T0,
    );
    const before = counted.roundTrips();
    const result = await consume(testEnv, createdIds, T0);
    expect(counted.roundTrips() - before).toBe(2);
    expect(result.explicitAcks).toHaveLength(25);
    const rows = await Promise.all(createdIds.map((id) => sendRow(id)));
    expect(rows.every((row) => row.status === "sent" && row.provider_message_id === row.id)).toBe(true);
    expect(await outboxRows(createdIds)).toBe(25);
  });

  it("when the batch that records outcomes fails, nothing of it is stored and the messages come back; the sends are delivered once later", async () => {
    const failing = countingDb({ failBatches: true });
    const { createdIds } = await enqueueSends(
      envWith({ DEFAULT_CHANNEL: "outbox" }),
      Array.from({ length: 3 }, () => sendRequest()),
      T0,
    );
    const failed = await consume(envWith({ DEFAULT_CHANNEL: "outbox", DB: failing.db }), createdIds, T0);
    expect(failed.retryMessages).toHaveLength(3);
    expect(await outboxRows(createdIds)).toBe(0);
    const held = await Promise.all(createdIds.map((id) => sendRow(id)));
    expect(held.every((row) => row.status === "sending" && row.attempts === 1)).toBe(true);

    // The redelivered messages take the sends over once the lease lapses (the outbox is idempotent).
    const later = T0 + sendSettings(envWith({})).leaseMs;
    const retried = await consume(envWith({ DEFAULT_CHANNEL: "outbox" }), createdIds, later, 2);
    expect(retried.explicitAcks).toHaveLength(3);
    const rows = await Promise.all(createdIds.map((id) => sendRow(id)));
    expect(rows.every((row) => row.status === "sent" && row.attempts === 2)).toBe(true);
    expect(await outboxRows(createdIds)).toBe(3);
  });
});

describe("backoff", () => {
  it("doubles per attempt with jitter in the upper half, is reproducible, and caps", () => {
    for (const sendId of ["snd_a", "snd_b", "snd_c"]) {
      for (let attempt = 1; attempt <= 10; attempt++) {
        const ceiling = Math.min(
          SEND_LIMITS.backoffMaxSeconds,
          SEND_LIMITS.backoffBaseSeconds * 2 ** (attempt - 1),
        );
        const delay = retryDelaySeconds(sendId, attempt);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(retryDelaySeconds(sendId, attempt)).toBe(delay);
      }
    }
  });

  it("spreads sends that failed together", () => {
    const delays = new Set(Array.from({ length: 50 }, (_, i) => retryDelaySeconds(`snd_${i}`, 3)));
    expect(delays.size).toBeGreaterThan(20);
  });

  it("honours a longer Retry-After, within the queue's 12-hour delay limit", () => {
    expect(retryDelaySeconds("snd_a", 1, 900)).toBe(900);
    expect(retryDelaySeconds("snd_a", 1, 1)).toBeGreaterThanOrEqual(SEND_LIMITS.backoffBaseSeconds / 2);
    expect(retryDelaySeconds("snd_a", 1, 10 ** 9)).toBe(SEND_LIMITS.maxQueueDelaySeconds);
  });
});

describe("settings", () => {
  it("RETRY_BASE_SECONDS shortens the backoff (for watching retries locally)", async () => {
    const path = receiverPath("fast-retry");
    const testEnv = webhookEnv(path, { RETRY_BASE_SECONDS: "2" });
    const { createdIds } = await enqueueSends(testEnv, [sendRequest({ channel: "webhook" })], T0);
    await scriptReceiver(path, [{ status: 502 }]);
    const result = await consume(testEnv, createdIds, T0);
    expect(retryDelay(result)).toBeGreaterThanOrEqual(1);
    expect(retryDelay(result)).toBeLessThanOrEqual(2);
  });

  it("a setting that cannot work is refused with its name and the accepted range", () => {
    expect(() => sendSettings(envWith({ DELIVERY_TIMEOUT_MS: "0" }))).toThrow(SendConfigError);
    expect(() => sendSettings(envWith({ DELIVERY_TIMEOUT_MS: "ten" }))).toThrow(
      /DELIVERY_TIMEOUT_MS is "ten"/,
    );
    expect(() => sendSettings(envWith({ RETRY_BASE_SECONDS: "1.5" }))).toThrow(/RETRY_BASE_SECONDS/);
    expect(() => sendSettings(envWith({ DEFAULT_CHANNEL: "sms" }))).toThrow(/DEFAULT_CHANNEL is "sms"/);
    expect(sendSettings(envWith({ DELIVERY_TIMEOUT_MS: "", RETRY_BASE_SECONDS: undefined }))).toEqual({
      defaultChannel: "outbox",
      deliveryTimeoutMs: SEND_LIMITS.deliveryTimeoutMs,
      leaseMs: SEND_LIMITS.deliveryTimeoutMs + SEND_LIMITS.leaseMarginMs,
      retryBaseSeconds: SEND_LIMITS.backoffBaseSeconds,
    });
  });
});
