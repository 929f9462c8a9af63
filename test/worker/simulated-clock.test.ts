// Stepping through a future month where the deployment allows it (REBOUND_ALLOW_FUTURE_TICKS, as
// `npm start` sets): the sends a future tick stores are dated at the tick's time, and the queue
// consumer delivers those due by the simulated clock (the last clean tick), so each dunning message
// shows in the outbox on its day. Without the setting (production) the consumer keeps the wall
// clock: the same sends stay queued until their real date.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../worker";
import type { Env } from "../../worker/env";
import { newSendId } from "../../worker/ids";
import { advanceSimulatedClock } from "../../worker/tick/state";
import { call, issueKey } from "./helpers";
import { sendRow } from "./sends-fixtures";
import { DAY, events, HOUR, isoOf, MINUTE, resetTick, sendsOf, subscriber } from "./tick-fixtures";

beforeEach(resetTick);

/** The deployment without the setting, as production runs. */
function production(): Env {
  const { REBOUND_ALLOW_FUTURE_TICKS: _, ...bindings } = env;
  return bindings;
}

/** POST /v1/admin/tick at `at`, through the Worker's fetch entry point. */
async function adminTick(key: string, at: number, bindings: Env) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request("http://rebound.test/v1/admin/tick", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ at: isoOf(at) }),
    }),
    bindings,
    ctx,
  );
  expect(response.status).toBe(200);
}

/** POST /v1/admin/tick at `at` and its report. */
async function adminTickReport(key: string, at: number, bindings: Env) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request("http://rebound.test/v1/admin/tick", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        at: isoOf(at),
        ...(bindings.REBOUND_ALLOW_FUTURE_TICKS ? {} : { dry_run: true }),
      }),
    }),
    bindings,
    ctx,
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { tick: { republished: number } }).tick;
}

/** Hands `sendIds` to the Worker's queue entry point as one rebound-sends batch, as the queue does. */
async function queueBatch(sendIds: readonly string[], bindings: Env) {
  const batch = createMessageBatch(
    "rebound-sends",
    sendIds.map((id, index) => ({
      id: `m_${id}_${index}_${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body: { v: 1, sendId: id },
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings, ctx);
  return getQueueResult(batch, ctx);
}

/** A queued send due at `at`, written as a tick at `at` stores it (not published to the queue). */
async function storedSend(at: number, customerId: string): Promise<string> {
  const sendId = newSendId(at, 0, 0);
  await env.DB.prepare(
    `INSERT INTO sends (id, programme_kind, programme_key, occurrence, step, customer_id, channel,
       message_key, recipient, variables, status, attempts, max_attempts, not_before, enqueued_at,
       created_at, updated_at)
     VALUES (?1, 'dunning', 'default', ?2, 'day-0', ?3, 'outbox', 'dunning_day_0',
       'ada@example.com', ?4, 'queued', 0, 6, ?5, ?5, ?5, ?5)`,
  )
    .bind(
      sendId,
      `in_${customerId}`,
      customerId,
      JSON.stringify({ first_name: "Ada", card_last4: "4242", update_url: "https://pay.example/u" }),
      at,
    )
    .run();
  return sendId;
}

describe("a simulated future where the deployment allows future ticks", () => {
  it("delivers each dunning message on its simulated day, in order", async () => {
    const admin = await issueKey(["admin"]);
    const failedAt = Date.now();
    await subscriber("cus_sim_dunning", failedAt - 90 * DAY);
    await events([
      "payment.failed",
      "cus_sim_dunning",
      failedAt,
      {
        invoice_id: "in_sim_1",
        amount: 4900,
        currency: "USD",
        card_last4: "4242",
        update_url: "https://pay.example/u",
      },
    ]);

    const subjects = [
      "Your payment did not go through",
      "Reminder: update your card",
      "Your account needs attention",
      "Keep your Acme Analytics account",
    ];
    for (const [index, day] of [0, 3, 7, 14].entries()) {
      // Day 0 is now; the later days are ticks dated weeks after the wall clock.
      await adminTick(admin, failedAt + day * DAY + 5 * MINUTE, env);
      const queued = (await sendsOf("cus_sim_dunning")).filter((send) => send.status === "queued");
      await queueBatch(
        queued.map((send) => send.id),
        env,
      );

      const { body } = await call("/v1/outbox?customer_id=cus_sim_dunning", { key: admin });
      const delivered = [...body.messages].reverse().map((message: { subject: string }) => message.subject);
      expect(delivered).toEqual(subjects.slice(0, index + 1));
    }
    const sends = await sendsOf("cus_sim_dunning");
    expect(sends.map((send) => send.status)).toEqual(["sent", "sent", "sent", "sent"]);
  });

  it("delivers a send the consumer takes while its future tick is still running", async () => {
    const future = Date.now() + 10 * DAY;
    // The simulated clock a future admin tick records before it runs; its watermark is not there yet.
    await advanceSimulatedClock(env.DB, future).run();
    const sendId = await storedSend(future, "cus_sim_running");
    const delivered = await queueBatch([sendId], env);
    expect(delivered.explicitAcks).toHaveLength(1);
    expect(await sendRow(sendId)).toMatchObject({ status: "sent", sent_at: future });
    // Without the setting the same record changes nothing.
    const later = await storedSend(future + MINUTE, "cus_sim_running_off");
    expect((await queueBatch([later], production())).retryMessages).toHaveLength(1);
  });

  it("republishes a send deferred past quiet hours once the simulated clock reaches it", async () => {
    const admin = await issueKey(["admin"]);
    const tickAt = Date.now() + 10 * DAY;
    const sendId = await storedSend(tickAt, "cus_sim_quiet");
    // Published by its tick with a queue delay to the end of the customer's night: nine real hours.
    await env.DB.prepare("UPDATE sends SET not_before = ?2 WHERE id = ?1")
      .bind(sendId, tickAt + 9 * HOUR)
      .run();
    // Not yet at eight simulated hours, and republished at the simulated day after.
    const before = await adminTickReport(admin, tickAt + 8 * HOUR, env);
    expect(before.republished).toBe(0);
    const report = await adminTickReport(admin, tickAt + DAY, env);
    expect(report.republished).toBe(1);
    await queueBatch([sendId], env);
    expect(await sendRow(sendId)).toMatchObject({ status: "sent" });
  });

  it("keeps the wall clock without the setting: the simulated day's sends stay queued", async () => {
    const future = Date.now() + 10 * DAY;
    const admin = await issueKey(["admin"]);
    // A tick at that future moment has finished cleanly and stored a send due then. The row is
    // written here rather than published, so that only the consumer this test drives sees it.
    await adminTick(admin, future, env);
    const sendId = newSendId(future, 0, 0);
    await env.DB.prepare(
      `INSERT INTO sends (id, programme_kind, programme_key, occurrence, step, customer_id, channel,
         message_key, recipient, variables, status, attempts, max_attempts, not_before, enqueued_at,
         created_at, updated_at)
       VALUES (?1, 'dunning', 'default', 'in_sim_off', 'day-0', 'cus_sim_off', 'outbox', 'dunning_day_0',
         'ada@example.com', ?2, 'queued', 0, 6, ?3, ?3, ?3, ?3)`,
    )
      .bind(
        sendId,
        JSON.stringify({ first_name: "Ada", card_last4: "4242", update_url: "https://pay.example/u" }),
        future,
      )
      .run();

    const refused = await queueBatch([sendId], production());
    expect(refused.explicitAcks).toEqual([]);
    expect(refused.retryMessages).toHaveLength(1);
    expect(await sendRow(sendId)).toMatchObject({ status: "queued", attempts: 0 });
    const { body } = await call("/v1/outbox?customer_id=cus_sim_off", { key: admin });
    expect(body.messages).toEqual([]);

    // The same send, where the deployment steps through time, is due by the simulated clock.
    const delivered = await queueBatch([sendId], env);
    expect(delivered.explicitAcks).toHaveLength(1);
    expect(await sendRow(sendId)).toMatchObject({ status: "sent", sent_at: future });
  });
});
