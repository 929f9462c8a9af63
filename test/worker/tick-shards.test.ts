// The tick on a sharded deployment: the Cron Trigger's invocation only dispatches one rebound-ticks
// message per (shard, unit); the consumer runs each unit on its shard; together they send what one
// database sends for the same customers, each customer exactly once, from the customer's own shard.
// POST /v1/admin/tick runs every shard in the request and answers one report that adds up. Sends
// are delivered, and dead-lettered, on the shard their id names.
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../../worker";
import { customerSlot, placedShard, SLOT_COUNT, shardOfSlot } from "../../worker/db/shards";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import type { Env } from "../../worker/env";
import { newSendId } from "../../worker/ids";
import { consumeSends } from "../../worker/sends/consume";
import { consumeDeadLetters } from "../../worker/sends/dead-letter";
import type { SendRow } from "../../worker/sends/types";
import type { TickReport } from "../../worker/tick/report";
import { runTick } from "../../worker/tick/run-tick";
import { unitKey } from "../../worker/tick/units";
import { isoOf, MINUTE } from "./tick-fixtures";
import {
  consumeEach,
  customerIds,
  decisionCounts,
  deployments,
  dispatch,
  heldOut,
  makeCustomers,
  misplacedSends,
  OCCURRENCE_KEY,
  type RecordingQueue,
  runTotals,
  sendKeys,
  TICK_0,
  TICK_1,
} from "./tick-shards-fixtures";

let admin = "";
beforeAll(async () => {
  admin = await makeCustomers();
});

/** The campaign's step-0 sends a tick at TICK_0 must make: every churned customer but the holdout. */
function expectedStep0(): string[] {
  const held = new Set(heldOut());
  return customerIds()
    .churned.filter((id) => !held.has(id))
    .map((id) => `campaign/spring_winback/${OCCURRENCE_KEY}/0/${id}`)
    .sort();
}

describe("the scheduled tick on four shards", () => {
  it("only dispatches: one message per shard and unit, each shard's run created, the control watermark moved", async () => {
    const deployment = await deployments();
    const controller = createScheduledController({ scheduledTime: TICK_0, cron: "*/5 * * * *" });
    await worker.scheduled(controller, deployment.four, createExecutionContext());
    const messages = deployment.ticks.take();

    const unitsByShard = [0, 1, 2, 3].map((shard) =>
      messages
        .filter((message) => message.shard === shard)
        .map((message) => unitKey(message.unit))
        .sort(),
    );
    const units = [
      "archive",
      `campaign/spring_winback/${OCCURRENCE_KEY}/0/0`,
      "dunning",
      "legacy_profiles",
      "lifecycle",
      "publish",
    ];
    expect(unitsByShard).toEqual([units, units, units, units]);
    expect(new Set(messages.map((message) => message.at))).toEqual(new Set([TICK_0]));

    // Nothing ran in the dispatching invocation.
    expect(await sendKeys(deployment.shards)).toEqual([]);
    for (const db of deployment.shards) {
      const { results } = await db
        .prepare("SELECT campaign, occurrence, step, status, lease_token, attempts FROM campaign_runs")
        .all();
      expect(results).toEqual([
        {
          campaign: "spring_winback",
          occurrence: OCCURRENCE_KEY,
          step: "0",
          status: "running",
          lease_token: null,
          attempts: 0,
        },
      ]);
    }
    const watermark = (db: D1Database) =>
      db.prepare("SELECT value FROM tick_state WHERE key = 'tick'").first<{ value: number }>();
    expect(await watermark(env.DB)).toEqual({ value: TICK_0 });
    expect(await watermark(deployment.shards[1]!)).toBeNull();
  });

  it("sends each eligible customer once, from their own shard, exactly what one database sends", async () => {
    const deployment = await deployments();
    for (const at of [TICK_0, TICK_1]) {
      const outcomes = await consumeEach(deployment.four, await dispatch(deployment, at));
      expect(outcomes.map((outcome) => outcome.kind)).toEqual(outcomes.map(() => "ack"));
      const report = await runTick(deployment.one, at, { ruleset: deployedRuleset() });
      expect(report.clean).toBe(true);
    }

    const four = await sendKeys(deployment.shards);
    expect(new Set(four).size).toBe(four.length);
    expect(four).toEqual(await sendKeys([deployment.one.DB]));
    expect(four.filter((key) => key.includes(`/spring_winback/${OCCURRENCE_KEY}/0/`))).toEqual(
      expectedStep0(),
    );
    // Step 1 (five days later) reaches the same customers, with an offer decided once for each.
    expect(four.filter((key) => key.includes(`/spring_winback/${OCCURRENCE_KEY}/1/`))).toHaveLength(
      expectedStep0().length,
    );
    expect(await misplacedSends(deployment.shards)).toEqual([]);
    expect(await decisionCounts(deployment.shards)).toEqual(await decisionCounts([deployment.one.DB]));

    // Each shard ran its part of both occurrence steps; the parts add up to the one database's runs.
    const totals = await runTotals(deployment.shards);
    expect(totals).toEqual(await runTotals([deployment.one.DB]));
    expect(totals[`spring_winback/${OCCURRENCE_KEY}/0/done`]).toMatchObject({
      audience: customerIds().churned.length,
      holdout: heldOut().length,
      sent: expectedStep0().length,
    });
    for (const db of deployment.shards) {
      const { results } = await db.prepare("SELECT step, status FROM campaign_runs ORDER BY step").all();
      expect(results).toEqual([
        { step: "0", status: "done" },
        { step: "1", status: "done" },
      ]);
    }
  });

  it("reach the Worker's queue() entry point: rebound-ticks runs the unit, rebound-ticks-dlq only logs", async () => {
    const deployment = await deployments();
    // The campaign units of the four shards in one batch (the queue's budget is split between them).
    const messages = (await dispatch(deployment, TICK_0)).filter(
      (message) => message.unit.kind === "campaign",
    );
    const batch = createMessageBatch(
      "rebound-ticks",
      messages.map((body, index) => ({ id: `t${index}`, timestamp: new Date(TICK_0), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, deployment.four, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(messages.length);
    expect(result.retryMessages).toEqual([]);
    expect(
      (await sendKeys(deployment.shards)).filter((key) =>
        key.includes(`/spring_winback/${OCCURRENCE_KEY}/0/`),
      ),
    ).toEqual(expectedStep0());

    const dead = createMessageBatch("rebound-ticks-dlq", [
      { id: "d0", timestamp: new Date(TICK_0), attempts: 1, body: messages[0] },
    ]);
    const deadCtx = createExecutionContext();
    await worker.queue(dead, deployment.four, deadCtx);
    expect((await getQueueResult(dead, deadCtx)).explicitAcks).toEqual(["d0"]);
  });

  it("without a TICKS binding runs every shard's part in the scheduled invocation itself", async () => {
    const deployment = await deployments();
    const inline = { ...deployment.four, TICKS: undefined } as Env;
    const controller = createScheduledController({ scheduledTime: TICK_0, cron: "*/5 * * * *" });
    await worker.scheduled(controller, inline, createExecutionContext());
    expect(deployment.ticks.take()).toEqual([]);
    expect(
      (await sendKeys(deployment.shards)).filter((key) =>
        key.includes(`/spring_winback/${OCCURRENCE_KEY}/0/`),
      ),
    ).toEqual(expectedStep0());
    expect(await env.DB.prepare("SELECT value FROM tick_state WHERE key = 'tick'").first()).toEqual({
      value: TICK_0,
    });
  });

  it("moves each shard's lifecycle watermark when its lifecycle unit finishes", async () => {
    const deployment = await deployments();
    const messages = await dispatch(deployment, TICK_0);
    const lifecycle = messages.filter((message) => unitKey(message.unit) === "lifecycle");
    await consumeEach(deployment.four, lifecycle.slice(0, 2));
    const marks = await Promise.all(
      deployment.shards.map((db) =>
        db.prepare("SELECT value FROM tick_state WHERE key = 'lifecycle'").first<{ value: number }>(),
      ),
    );
    expect(marks.map((mark) => mark?.value ?? null)).toEqual(
      [0, 1, 2, 3].map((shard) => (lifecycle.slice(0, 2).some((m) => m.shard === shard) ? TICK_0 : null)),
    );
  });
});

/** POST /v1/admin/tick on a deployment, as its worker would answer it. */
async function adminTick(deployment: Env, body: Record<string, unknown>) {
  const response = await worker.fetch(
    new Request("http://rebound.test/v1/admin/tick", {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    deployment,
    createExecutionContext(),
  );
  expect(response.status).toBe(200);
  // biome-ignore lint/suspicious/noExplicitAny: the answer is checked field by field below
  return (await response.json()) as any;
}

/** The figures of a report that must add up across shards (costs and pages may differ). */
function summed(report: TickReport) {
  return {
    campaigns: report.campaigns.map((run) => ({
      campaign: run.campaign,
      occurrence: run.occurrence,
      step: run.step,
      due_at: run.due_at,
      status: run.status,
      audience: run.audience,
      sent: run.sent,
      deferred: run.deferred,
      holdout: run.holdout,
      frequency_capped: run.frequency_capped,
      already_sent: run.already_sent,
      no_offer: run.no_offer,
    })),
    catch_up: report.catch_up,
    dunning: { ...report.dunning, rows_read: 0 },
    lifecycle: { ...report.lifecycle, rows_read: 0, window: null },
    republished: report.republished,
    legacy_profiles_upgraded: report.legacy_profiles_upgraded,
    errors: report.errors,
    clean: report.clean,
  };
}

describe("POST /v1/admin/tick on four shards", () => {
  it("runs every shard in the request and answers one report that adds up to one database's", async () => {
    const deployment = await deployments();
    for (const at of [TICK_0, TICK_1]) {
      const four = (await adminTick(deployment.four, { at: isoOf(at) })).tick as TickReport;
      const one = (await adminTick(deployment.one, { at: isoOf(at) })).tick as TickReport;
      expect(summed(four)).toEqual(summed(one));
      expect(four.campaigns).toHaveLength(1);
      expect(four.campaigns[0]!.sent).toBeGreaterThan(0);
      // Each shard's part, and costs that add up.
      expect(four.shards!.map((shard) => shard.shard)).toEqual([0, 1, 2, 3]);
      expect(four.shards!.every((shard) => shard.clean && shard.runs === 1)).toBe(true);
      const sent = four.campaigns[0]!.sent + four.dunning.sent + four.lifecycle.sent;
      expect(four.shards!.reduce((sum, shard) => sum + shard.sent, 0)).toBe(sent);
      expect(four.shards!.reduce((sum, shard) => sum + shard.queries, 0)).toBe(four.queries);
      // The one-database report keeps its shape.
      expect("shards" in one).toBe(false);
    }
    expect(await sendKeys(deployment.shards)).toEqual(await sendKeys([deployment.one.DB]));
    const watermark = await env.DB.prepare("SELECT value FROM tick_state WHERE key = 'tick'").first();
    expect(watermark).toEqual({ value: TICK_1 });
  });

  it("a dry run on four shards lists what one database would do, and writes nothing", async () => {
    const deployment = await deployments();
    const four = await adminTick(deployment.four, { at: isoOf(TICK_0), dry_run: true });
    const one = await adminTick(deployment.one, { at: isoOf(TICK_0), dry_run: true });
    expect(summed(four.tick)).toEqual(summed(one.tick));
    const keyOf = (send: { programme_key: string; step: string; customer_id: string }) =>
      `${send.programme_key}/${send.step}/${send.customer_id}`;
    expect(four.effects.sends.map(keyOf).sort()).toEqual(one.effects.sends.map(keyOf).sort());
    expect(four.effects.exclusions).toHaveLength(heldOut().length);
    expect(await sendKeys(deployment.shards)).toEqual([]);
    const runs = await Promise.all(
      deployment.shards.map((db) => db.prepare("SELECT count(*) AS n FROM campaign_runs").first()),
    );
    expect(runs).toEqual([{ n: 0 }, { n: 0 }, { n: 0 }, { n: 0 }]);
  });

  it("names the shard of an error, and keeps the watermark until every shard is clean", async () => {
    const deployment = await deployments();
    const broken = { ...deployment.four, DB_2: brokenDatabase() } as Env;
    const report = (await adminTick(broken, { at: isoOf(TICK_0) })).tick as TickReport;
    expect(report.clean).toBe(false);
    expect(new Set(report.errors.map((error) => error.shard))).toEqual(new Set([2]));
    expect(report.shards!.map((shard) => shard.clean)).toEqual([true, true, false, true]);
    expect(await env.DB.prepare("SELECT value FROM tick_state WHERE key = 'tick'").first()).toBeNull();
    // The healthy shards sent their customers' messages all the same.
    const sent = await sendKeys(deployment.shards);
    const step0 = expectedStep0().filter((key) => placedShard(key.split("/").at(-1)!, 4) !== 2);
    expect(sent.filter((key) => key.includes("/spring_winback/"))).toEqual(step0);
  });
});

/** A database every statement of which fails. */
function brokenDatabase(): D1Database {
  const fail = () => {
    throw new Error("D1_ERROR: the shard is down");
  };
  return { prepare: fail, batch: fail, exec: fail, withSession: fail, dump: fail } as unknown as D1Database;
}

describe("sends on four shards", () => {
  it("are delivered on the shard their id names, and a send made before sharding is found elsewhere", async () => {
    const deployment = await deployments();
    await consumeEach(deployment.four, await dispatch(deployment, TICK_0));
    const published = (deployment.four.SENDS as RecordingQueue).bodies.splice(0);
    expect(published.length).toBeGreaterThan(0);

    // An older send whose id's slot digits name another shard than its customer's.
    const customer = customerIds().active[0]!;
    const home = placedShard(customer, 4);
    const foreignSlot = [...Array(SLOT_COUNT).keys()].find((slot) => shardOfSlot(slot, 4) !== home)!;
    const legacyId = newSendId(TICK_0, 0, foreignSlot);
    await deployment.shards[home]!.prepare(
      `INSERT INTO sends (id, programme_kind, programme_key, occurrence, step, customer_id, channel, message_key,
         recipient, variables, status, attempts, max_attempts, not_before, created_at, updated_at)
       VALUES (?1, 'campaign', 'legacy_campaign', 'legacy', '0', ?2, 'outbox', 'winback_whats_new', ?3,
         '{"first_name":"Sam"}', 'queued', 0, 6, ?4, ?4, ?4)`,
    )
      .bind(legacyId, customer, `${customer}@example.com`, TICK_0)
      .run();
    expect(customerSlot(customer)).not.toBe(foreignSlot);

    const bodies = [...published, { v: 1, sendId: legacyId }];
    const batch = createMessageBatch(
      "rebound-sends",
      bodies.map((body, index) => ({ id: `m${index}`, timestamp: new Date(TICK_0), attempts: 1, body })),
    );
    const late = TICK_0 + 24 * 60 * MINUTE; // past every customer's quiet hours
    await consumeSends(batch, deployment.four, { clock: () => late, ruleset: deployedRuleset() });
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.retryMessages).toEqual([]);

    for (const [index, db] of deployment.shards.entries()) {
      const sends = await db.prepare("SELECT id, customer_id, status FROM sends").all<SendRow>();
      expect(sends.results.every((send) => send.status === "sent")).toBe(true);
      const outbox = await db.prepare("SELECT id, customer_id FROM outbox ORDER BY id").all<SendRow>();
      expect(outbox.results.map((row) => row.id)).toEqual(sends.results.map((send) => send.id).sort());
      expect(outbox.results.every((row) => placedShard(row.customer_id, 4) === index)).toBe(true);
    }
  });

  it("a dead-lettered send is marked dead on its shard", async () => {
    const deployment = await deployments();
    await consumeEach(deployment.four, await dispatch(deployment, TICK_0));
    const [body] = (deployment.four.SENDS as RecordingQueue).bodies as { sendId: string }[];
    const batch = createMessageBatch("rebound-sends-dlq", [
      { id: "dead", timestamp: new Date(TICK_0), attempts: 1, body },
    ]);
    await consumeDeadLetters(batch, deployment.four, () => TICK_0 + MINUTE);
    const rows = await Promise.all(
      deployment.shards.map((db) =>
        db.prepare("SELECT status FROM sends WHERE id = ?").bind(body!.sendId).first<{ status: string }>(),
      ),
    );
    expect(rows.filter((row) => row !== null)).toEqual([{ status: "dead" }]);
  });
});
