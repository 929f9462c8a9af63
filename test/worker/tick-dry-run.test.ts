// A dry run of the tick (`POST /v1/admin/tick {"dry_run": true}`) answers what the tick would do
// and writes nothing. Each scenario is checked twice over: every table, the archive bucket and the
// queue are exactly as before the dry run; then the real tick runs at the same moment, and the dry
// run must have predicted its sends (delivered by the real consumer, subject and body included), its
// decisions, its dunning opens, closes and cancellations, its exclusions and its report's counts.
import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Ruleset } from "../../dsl";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { inHoldout } from "../../dsl/runtime/bucket";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import worker from "../../worker";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { ruleset as deployedIr } from "../../worker/generated/ruleset";
import { consumeSends } from "../../worker/sends/consume";
import type { SendRow } from "../../worker/sends/types";
import { DryRunEffects } from "../../worker/tick/dry-run";
import { DryRunWriteError, ReadOnlyD1 } from "../../worker/tick/read-only-db";
import type { TickReport } from "../../worker/tick/report";
import { runTick } from "../../worker/tick/run-tick";
import { issueKey } from "./helpers";
import { at, DAY, events, HOUR, isoOf, MINUTE, resetTick, subscriber } from "./tick-fixtures";

const T0 = at("2031-03-03T15:00:00Z");

beforeEach(async () => {
  await resetTick();
  await env.DB.batch(
    ["archive_days", "event_days", "erasures"].map((t) => env.DB.prepare(`DELETE FROM ${t}`)),
  );
});

type Row = Record<string, unknown>;

async function rows(sql: string): Promise<Row[]> {
  return (await env.DB.prepare(sql).all<Row>()).results;
}

/** Every row of every table (sorted), the archive's keys: what "writes nothing" is checked against. */
async function snapshot(): Promise<{ tables: Record<string, string[]>; archive: string[] }> {
  const names = await rows(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  );
  const tables: Record<string, string[]> = {};
  for (const { name } of names) {
    tables[String(name)] = (await rows(`SELECT * FROM "${String(name)}"`))
      .map((row) => JSON.stringify(row))
      .sort();
  }
  const archive = (await env.ARCHIVE!.list()).objects.map((object) => object.key).sort();
  return { tables, archive };
}

/** The Worker's queue, with every message published through it noted. */
function watchedQueue() {
  const published: unknown[] = [];
  const queue: Queue<unknown> = {
    metrics: () => env.SENDS.metrics(),
    send: (body, options) => {
      published.push(body);
      return env.SENDS.send(body, options);
    },
    sendBatch: (messages, options) => {
      published.push(...messages);
      return env.SENDS.sendBatch(messages, options);
    },
  };
  return { queue, published };
}

const withoutDecisionIds = (text: string | null) => text?.replace(/dec_[0-9a-f]{28}/g, "dec_…") ?? null;
const byJson = <T>(list: readonly T[]) =>
  [...list].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** The sends as the real consumer delivers them (outbox channel), each at its own due time. */
async function delivered(sends: readonly SendRow[], ruleset: Ruleset) {
  for (const send of sends) {
    const batch = createMessageBatch("rebound-sends", [
      {
        id: `m_${send.id}`,
        timestamp: new Date(send.not_before),
        attempts: 1,
        body: { v: 1, sendId: send.id },
      },
    ]);
    await consumeSends(batch, env, { clock: () => send.not_before, ruleset });
  }
  return Promise.all(
    sends.map(async (send) => {
      const outbox = await env.DB.prepare("SELECT subject, text FROM outbox WHERE id = ?")
        .bind(send.id)
        .first<{ subject: string; text: string }>();
      const variables = JSON.parse(send.variables) as Record<string, unknown>;
      return {
        programme_kind: send.programme_kind,
        programme_key: send.programme_key,
        occurrence: send.occurrence,
        step: send.step,
        customer_id: send.customer_id,
        channel: send.channel,
        message_key: send.message_key,
        send_at: isoOf(send.not_before),
        offer_key: typeof variables.offer_key === "string" ? variables.offer_key : null,
        subject: withoutDecisionIds(outbox?.subject ?? null),
        body: withoutDecisionIds(outbox?.text ?? null),
      };
    }),
  );
}

/** A report's counts: what a tick did, without what reading it cost. */
function counts(report: TickReport) {
  const { queries: _q, rows_read: _r, archive: _a, ...rest } = report;
  return {
    ...rest,
    dunning: { ...rest.dunning, rows_read: 0 },
    lifecycle: { ...rest.lifecycle, rows_read: 0 },
    campaigns: rest.campaigns.map(({ rows_read: _rr, rows_read_per_selected: _s, ...run }) => run),
  };
}

/**
 * Runs the dry tick at `now` (asserting it wrote nothing), then the real one, and asserts the dry
 * run predicted the real one. Returns the dry run's answer for scenario-specific checks.
 */
async function dryThenReal(now: number, ruleset: Ruleset) {
  const before = await snapshot();
  const dryQueue = watchedQueue();
  const recorder = new DryRunEffects();
  const dry = await runTick({ ...env, SENDS: dryQueue.queue }, now, { ruleset, dryRun: recorder });
  expect(dry.errors).toEqual([]);
  expect(await snapshot()).toEqual(before);
  expect(dryQueue.published).toEqual([]);
  const { effects, truncated } = recorder.toJSON();
  expect(Object.values(truncated).every((leftOut) => leftOut === 0)).toBe(true);

  const realQueue = watchedQueue();
  const real = await runTick({ ...env, SENDS: realQueue.queue }, now, { ruleset });
  expect(real.errors).toEqual([]);
  expect(counts(dry)).toEqual(counts(real));

  const had = (table: string) => new Set(before.tables[table]!.map((row) => JSON.parse(row).id as string));
  const sentBefore = had("sends");
  const newSends = (await rows("SELECT * FROM sends")).filter((row) => !sentBefore.has(String(row.id)));
  expect(realQueue.published.length).toBe(
    newSends.filter((send) => Number(send.not_before) <= now + 12 * HOUR).length + real.republished,
  );
  const predicted = effects.sends.map((send) => ({
    ...send,
    subject: withoutDecisionIds(send.subject),
    body: withoutDecisionIds(send.body),
  }));
  expect(byJson(predicted)).toEqual(byJson(await delivered(newSends as unknown as SendRow[], ruleset)));

  const decidedBefore = had("decisions");
  const newDecisions = (await rows("SELECT * FROM decisions")).filter(
    (row) => !decidedBefore.has(String(row.id)),
  );
  expect(
    byJson(effects.decisions.filter((d) => d.outcome === "created").map(({ outcome: _, ...d }) => d)),
  ).toEqual(
    byJson(
      newDecisions.map((row) => ({
        customer_id: row.customer_id,
        context: row.context,
        offer_key: row.offer_key,
        expires_at: row.expires_at === null ? null : isoOf(Number(row.expires_at)),
      })),
    ),
  );

  const casesBefore = new Map(
    before.tables.dunning_cases!.map((text) => {
      const row = JSON.parse(text) as Row;
      return [`${row.customer_id}/${row.invoice_id}`, row];
    }),
  );
  const casesAfter = await rows("SELECT * FROM dunning_cases");
  expect(byJson(effects.dunning.opened)).toEqual(
    byJson(
      casesAfter
        .filter((row) => !casesBefore.has(`${row.customer_id}/${row.invoice_id}`))
        .map((row) => ({ customer_id: row.customer_id, invoice_id: row.invoice_id, cadence: row.cadence })),
    ),
  );
  expect(byJson(effects.dunning.closed)).toEqual(
    byJson(
      casesAfter
        .filter(
          (row) =>
            row.status !== "open" &&
            casesBefore.get(`${row.customer_id}/${row.invoice_id}`)?.status !== row.status,
        )
        .map((row) => ({
          customer_id: row.customer_id,
          invoice_id: row.invoice_id,
          cadence: row.cadence,
          status: row.status,
          actions: row.final_actions === null ? null : JSON.parse(String(row.final_actions)),
        })),
    ),
  );
  const cancellations = await rows(
    "SELECT customer_id, properties FROM events WHERE id LIKE 'rebound:dunning:%' AND type = 'subscription.canceled'",
  );
  expect(
    byJson(effects.dunning.cancellations.map(({ customer_id, invoice_id }) => ({ customer_id, invoice_id }))),
  ).toEqual(
    byJson(
      cancellations.map((row) => ({
        customer_id: row.customer_id,
        invoice_id: (JSON.parse(String(row.properties)) as { invoice_id: string }).invoice_id,
      })),
    ),
  );

  const excludedBefore = new Set(before.tables.campaign_exclusions);
  const newExclusions = (
    await rows("SELECT campaign, occurrence, step, customer_id, reason, detail, at FROM campaign_exclusions")
  )
    .filter((row) => !excludedBefore.has(JSON.stringify(row)))
    .map(({ at: _, ...row }) => row);
  expect(byJson(effects.exclusions)).toEqual(byJson(newExclusions));
  expect(effects.republish).toBe(real.republished);
  return { dry, real, effects };
}

/** The deployed rules with the standard dunning cadence shortened to days 0, 2, 5 and a final day 10. */
function shortCadence(): Ruleset {
  const ir = structuredClone(deployedIr) as RulesetIR;
  const cadence = ir.dunning[0]!;
  cadence.steps = cadence.steps.filter((step) => [0, 3, 7].includes(step.day));
  cadence.steps.forEach((step, index) => {
    step.day = [0, 2, 5][index]!;
  });
  cadence.final.day = 10;
  return loadRuleset({ ...ir, version: `${ir.version}+short-cadence` });
}

/** The deployed rules with spring_winback every hour. */
function hourlyWinback(): Ruleset {
  const ir = structuredClone(deployedIr) as RulesetIR;
  ir.campaigns.find((campaign) => campaign.key === "spring_winback")!.schedule = "0 * * * *";
  return loadRuleset({ ...ir, version: `${ir.version}+hourly` });
}

async function failedPayment(customerId: string, invoiceId: string, when: number) {
  await events([
    "payment.failed",
    customerId,
    when,
    {
      invoice_id: invoiceId,
      amount: 4900,
      currency: "USD",
      card_last4: "4242",
      update_url: "https://pay.example/u",
    },
  ]);
}

/** A customer who subscribed 20 days before canceling (recent enough to ingest after a tick has archived). */
async function canceled(customerId: string, when: number, reason: string, timezone?: string) {
  await subscriber(customerId, when - 20 * DAY, timezone ? { timezone } : {});
  await events(["subscription.canceled", customerId, when, { reason }]);
}

/** The first `count` ids `prefix0`, `prefix1`, … in (or not in) the spring win-back's 10% holdout. */
function ids(prefix: string, count: number, held: boolean): string[] {
  const found: string[] = [];
  for (let n = 0; found.length < count; n++)
    if (inHoldout("spring_winback_copy", `${prefix}${n}`, 10) === held) found.push(`${prefix}${n}`);
  return found;
}

describe("a dry run of dunning", () => {
  it("shows a failure 12 days old under a 10-day cadence opened, canceled and closed at once, as the tick then does", async () => {
    const rules = shortCadence();
    await subscriber("cus_mid", T0 - 90 * DAY);
    await failedPayment("cus_mid", "inv_mid", T0 - 3 * DAY);
    await subscriber("cus_paid", T0 - 90 * DAY);
    await failedPayment("cus_paid", "inv_paid", T0 - 3 * DAY);
    await runTick(env, T0 - 3 * DAY + MINUTE, { ruleset: rules });

    // Reported after that tick: no case is open for them yet.
    await subscriber("cus_late", T0 - 90 * DAY, { firstName: "Lena" });
    await failedPayment("cus_late", "inv_late", T0 - 12 * DAY);
    await events([
      "payment.succeeded",
      "cus_paid",
      T0 - DAY,
      { invoice_id: "inv_paid", amount: 4900, currency: "USD" },
    ]);
    // A card about to expire: reminded, unless the tick cancels the customer first.
    await subscriber("cus_card", T0 - 90 * DAY);
    await events(["card.expiring", "cus_card", T0 - DAY, { expires_at: isoOf(T0 + 5 * DAY) }]);
    await subscriber("cus_card_late", T0 - 90 * DAY);
    await failedPayment("cus_card_late", "inv_card", T0 - 11 * DAY);
    await events(["card.expiring", "cus_card_late", T0 - DAY, { expires_at: isoOf(T0 + 5 * DAY) }]);

    const { dry, effects } = await dryThenReal(T0, rules);
    expect(dry.dunning).toMatchObject({ opened: 2, recovered: 1, final_actions: 2 });
    expect(effects.dunning.cancellations).toEqual(
      expect.arrayContaining([{ customer_id: "cus_late", invoice_id: "inv_late", cadence: "standard" }]),
    );
    expect(effects.dunning.closed).toEqual(
      expect.arrayContaining([
        {
          customer_id: "cus_late",
          invoice_id: "inv_late",
          cadence: "standard",
          status: "final",
          actions: ["cancel"],
        },
        {
          customer_id: "cus_paid",
          invoice_id: "inv_paid",
          cadence: "standard",
          status: "recovered",
          actions: null,
        },
      ]),
    );
    const closing = effects.sends.find((send) => send.customer_id === "cus_late");
    expect(closing).toMatchObject({
      programme_kind: "dunning",
      step: "final",
      message_key: "dunning_closed",
    });
    expect(closing?.subject).toBe("Your account was closed");
    expect(closing?.body).toContain("Reactivate any time: https://pay.example/u");
    expect(
      effects.sends.map((send) => `${send.customer_id} ${send.programme_kind}/${send.step}`).sort(),
    ).toEqual([
      "cus_card card_expiry/7d-before",
      "cus_card_late dunning/final",
      "cus_late dunning/final",
      "cus_mid dunning/day-2",
    ]);
    const profile = await env.DB.prepare(
      "SELECT status, churn_reason FROM customers WHERE id = 'cus_late'",
    ).first();
    expect(profile).toEqual({ status: "canceled", churn_reason: "payment_failed" });
  });
});

describe("a dry run of a campaign", () => {
  it("predicts the holdout, the frequency cap and quiet hours of an occurrence", async () => {
    const rules = hourlyWinback();
    const OCCURRENCE = at("2031-03-04T15:00:00Z");
    const [early] = ids("cus_early", 1, false);
    await canceled(early!, OCCURRENCE - 30 * DAY, "too_expensive");
    for (const hour of [0, 1]) await runTick(env, OCCURRENCE + hour * HOUR + MINUTE, { ruleset: rules });

    // Newcomers: one in the holdout, one in Tokyo (03:01 there: quiet until 09:00), one in New York.
    const [held] = ids("cus_held", 1, true);
    const [tokyo, newYork] = ids("cus_new", 2, false);
    await canceled(held!, OCCURRENCE - 40 * DAY, "unused");
    await canceled(tokyo!, OCCURRENCE - 40 * DAY, "unused", "Asia/Tokyo");
    await canceled(newYork!, OCCURRENCE - 50 * DAY, "too_expensive", "America/New_York");

    const now = OCCURRENCE + 2 * HOUR + MINUTE;
    const { dry, effects } = await dryThenReal(now, rules);
    expect(dry.campaigns[0]).toMatchObject({
      status: "done",
      sent: 2,
      holdout: 1,
      frequency_capped: 1,
      deferred: 1,
    });
    expect(byJson(effects.exclusions.map((x) => `${x.customer_id} ${x.reason}`))).toEqual(
      byJson([`${early} frequency_cap`, `${held} holdout`]),
    );
    expect(effects.sends.find((send) => send.customer_id === tokyo)?.send_at).toBe(
      "2031-03-05T00:00:00.000Z",
    );
  });

  it("predicts a step with an offer (its decisions), win-back and inactivity in the same tick", async () => {
    const rules = deployedRuleset();
    const OCCURRENCE = at("2031-03-04T15:00:00Z");
    const audience = ids("cus_aud", 4, false);
    for (const [index, id] of audience.entries())
      await canceled(
        id,
        OCCURRENCE - [20, 45, 90, 120][index]! * DAY,
        index % 2 ? "too_expensive" : "hard_to_use",
      );
    await runTick(env, OCCURRENCE + MINUTE, { ruleset: rules });

    const now = OCCURRENCE + 5 * DAY + MINUTE;
    // Win-back at day 7 and at day 30 (with an offer); a starter account quiet for a week.
    await canceled("cus_wb7", now - 7 * DAY - HOUR, "too_expensive");
    await canceled("cus_wb30", now - 30 * DAY - HOUR, "too_expensive");
    await subscriber("cus_quiet", now - 90 * DAY, { plan: "starter", mrr: 900 });
    await events(["activity", "cus_quiet", now - 7 * DAY - HOUR]);

    const { dry, effects } = await dryThenReal(now, rules);
    expect(dry.campaigns.map((run) => `${run.campaign}/${run.step}`)).toEqual(["spring_winback/1"]);
    expect(effects.decisions.filter((d) => d.outcome === "created").length).toBeGreaterThanOrEqual(
      audience.length,
    );
    expect(effects.sends.some((send) => send.offer_key !== null)).toBe(true);
    expect(byJson(Object.keys(dry.lifecycle.steps))).toEqual(
      byJson(["winback/price/day-7", "winback/price/day-30", "inactivity/starter_quiet_week/0"]),
    );
  });
});

describe("a dry run's answer", () => {
  it("lists at most its limit of each kind and counts the rest, with the report's counts exact", async () => {
    for (const id of ["cus_a", "cus_b", "cus_c"]) {
      await subscriber(id, T0 - 90 * DAY);
      await failedPayment(id, `inv_${id}`, T0 - HOUR);
    }
    const recorder = new DryRunEffects(1);
    const report = await runTick(env, T0, { ruleset: deployedRuleset(), dryRun: recorder });
    const { effects, truncated } = recorder.toJSON();
    expect(report.dunning).toMatchObject({ opened: 3, sent: 3 });
    expect(effects.sends).toHaveLength(1);
    expect(effects.dunning.opened).toHaveLength(1);
    expect(truncated).toMatchObject({ sends: 2, dunning_opened: 2 });
  });

  it("comes from handles that refuse any write, before it reaches D1", async () => {
    const readOnly = new ReadOnlyD1(env.DB);
    await expect(
      readOnly.prepare("INSERT INTO tick_state (key, value, updated_at) VALUES ('x', 1, 1)").run(),
    ).rejects.toBeInstanceOf(DryRunWriteError);
    await expect(
      readOnly.batch([readOnly.prepare("  /* c */ DELETE FROM customers")]),
    ).rejects.toBeInstanceOf(DryRunWriteError);
    expect(await readOnly.prepare("SELECT count(*) AS n FROM tick_state").first()).toEqual({ n: 0 });
  });
});

describe("POST /v1/admin/tick with dry_run", () => {
  /** Calls the Worker as production has it (no REBOUND_ALLOW_FUTURE_TICKS). */
  async function postTick(key: string, body: unknown) {
    const ctx = createExecutionContext();
    const { REBOUND_ALLOW_FUTURE_TICKS: _, ...production } = env;
    const response = await worker.fetch(
      new Request("http://rebound.test/v1/admin/tick", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      production,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    // biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
    return { status: response.status, body: (await response.json()) as any };
  }

  it("accepts a date after the wall clock where a real tick is refused, and writes nothing", async () => {
    const admin = await issueKey(["admin"]);
    const future = Date.now() + 30 * DAY;
    await subscriber("cus_f", future - 40 * DAY, { firstName: "Fay" });
    await failedPayment("cus_f", "inv_f", future - 35 * DAY);
    const before = await snapshot();

    expect((await postTick(admin, { at: isoOf(future) })).status).toBe(400);
    const { status, body } = await postTick(admin, { at: isoOf(future), dry_run: true });
    expect(status).toBe(200);
    expect(await snapshot()).toEqual(before);
    expect(body.dry_run).toBe(true);
    expect(body.tick).toMatchObject({ at: isoOf(future), dunning: { opened: 1, final_actions: 1 } });
    expect(body.effects.dunning.cancellations).toEqual([
      { customer_id: "cus_f", invoice_id: "inv_f", cadence: "standard" },
    ]);
    expect(body.effects.sends).toEqual([
      expect.objectContaining({ customer_id: "cus_f", step: "final", subject: "Your account was closed" }),
    ]);
    expect(body.truncated).toMatchObject({ sends: 0, decisions: 0 });
  });

  it("refuses a dry_run that is not a boolean, and unknown fields, at their paths", async () => {
    const admin = await issueKey(["admin"]);
    const before = await snapshot();
    const notBoolean = await postTick(admin, { at: isoOf(T0), dry_run: "yes" });
    expect(notBoolean.status).toBe(400);
    expect(notBoolean.body.error.details).toEqual([{ path: "/dry_run", message: expect.any(String) }]);
    const unknown = await postTick(admin, { at: isoOf(T0), dry_run: true, dryRun: true });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ path: "/dryRun", message: expect.any(String) }]);
    expect(await snapshot()).toEqual(before);
    const real = await postTick(admin, { at: isoOf(Date.now() - DAY), dry_run: false });
    expect(real.status).toBe(200);
    expect(real.body.dry_run).toBeUndefined();
  });
});
