// An operator's retry of a dead send: POST /v1/sends/:id/retry and retryDeadSend.
import { describe, expect, it } from "vitest";
import { enqueueSends } from "../../worker/sends/enqueue";
import { SEND_LIMITS } from "../../worker/sends/limits";
import { retryDeadSend } from "../../worker/sends/retry-dead";
import { call, issueKey } from "./helpers";
import { receivedAt, receiverPath, scriptReceiver } from "./receiver";
import { consume, retryDelay, sendRequest, sendRow, T0, webhookEnv } from "./sends-fixtures";

describe("retrying a dead send", () => {
  it("after the missing secret is set, the retried send is delivered, with a fresh set of attempts", async () => {
    const path = receiverPath("retry-secret");
    const broken = webhookEnv(path, { WEBHOOK_SECRET: undefined });
    const { createdIds } = await enqueueSends(broken, [sendRequest()], T0);
    const sendId = createdIds[0]!;
    await consume(broken, [sendId], T0);
    expect((await sendRow(sendId)).status).toBe("dead");

    const fixed = webhookEnv(path);
    const later = T0 + 3_600_000;
    const result = await retryDeadSend(fixed, sendId, later);
    expect(result.kind).toBe("requeued");
    const requeued = await sendRow(sendId);
    expect(requeued).toMatchObject({
      status: "queued",
      attempts: 1,
      max_attempts: 1 + SEND_LIMITS.maxAttempts,
      not_before: later,
      enqueued_at: later,
    });
    expect(requeued.last_error).toBe(
      "retried by an operator after: webhook channel: WEBHOOK_SECRET is not set",
    );

    await consume(fixed, [sendId], later);
    expect(await sendRow(sendId)).toMatchObject({ status: "sent", attempts: 2 });
    expect(await receivedAt(path)).toHaveLength(1);
  });

  it("a retried send that fails again backs off from the first delay and gets the full attempt budget", async () => {
    const path = receiverPath("retry-budget");
    await scriptReceiver(
      path,
      Array.from({ length: 2 * SEND_LIMITS.maxAttempts }, () => ({ status: 500 })),
    );
    const testEnv = webhookEnv(path);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest()], T0);
    const sendId = createdIds[0]!;
    let now = T0;
    for (let attempt = 1; attempt <= SEND_LIMITS.maxAttempts; attempt++) {
      const result = await consume(testEnv, [sendId], now, attempt);
      if (attempt < SEND_LIMITS.maxAttempts) now += retryDelay(result) * 1000;
    }
    expect((await sendRow(sendId)).status).toBe("dead");

    await retryDeadSend(testEnv, sendId, now);
    const first = await consume(testEnv, [sendId], now);
    expect(retryDelay(first)).toBeLessThanOrEqual(SEND_LIMITS.backoffBaseSeconds);
    now += retryDelay(first) * 1000;
    for (let attempt = 2; attempt <= SEND_LIMITS.maxAttempts; attempt++) {
      const result = await consume(testEnv, [sendId], now, attempt);
      if (attempt < SEND_LIMITS.maxAttempts) now += retryDelay(result) * 1000;
    }
    const row = await sendRow(sendId);
    expect(row).toMatchObject({ status: "dead", attempts: 2 * SEND_LIMITS.maxAttempts });
    expect(await receivedAt(path)).toHaveLength(2 * SEND_LIMITS.maxAttempts);
  });

  it("POST /v1/sends/:id/retry: 200 with the requeued send, 409 when it is not dead, 404 when unknown, 401 without a key", async () => {
    const key = await issueKey(["admin"]);
    const path = receiverPath("retry-route");
    const testEnv = webhookEnv(path);
    await scriptReceiver(path, [{ status: 404 }]);
    const { createdIds } = await enqueueSends(testEnv, [sendRequest(), sendRequest()], T0);
    const [deadId, queuedId] = createdIds;
    await consume(testEnv, [deadId!], T0);
    expect((await sendRow(deadId!)).status).toBe("dead");

    const retried = await call(`/v1/sends/${deadId}/retry`, { key, method: "POST" });
    expect(retried.status).toBe(200);
    expect(retried.body.send).toMatchObject({
      id: deadId,
      status: "queued",
      max_attempts: 1 + SEND_LIMITS.maxAttempts,
    });

    const notDead = await call(`/v1/sends/${queuedId}/retry`, { key, method: "POST" });
    expect(notDead.status).toBe(409);
    expect(notDead.body.error.code).toBe("send_not_dead");
    const unknown = await call("/v1/sends/snd_000000000000ffffffffffffffff/retry", { key, method: "POST" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("send_not_found");
    expect((await call(`/v1/sends/${deadId}/retry`, { method: "POST" })).status).toBe(401);
  });
});
