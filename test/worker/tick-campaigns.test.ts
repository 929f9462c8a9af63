// Campaigns on the clock: each occurrence is claimed once (sequential, repeated and concurrent
// ticks alike), reaches exactly its audience minus the holdout, defers quiet hours in the customer's
// zone instead of dropping them, respects the frequency cap, resumes a run a dead tick left behind,
// and catches up missed occurrences within bounds.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { checkRuleset } from "../../dsl/rules/check";
import type { RulesetIR } from "../../dsl/rules/ruleset";
import { inHoldout } from "../../dsl/runtime/bucket";
import { loadRuleset } from "../../dsl/runtime/ruleset";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import { ruleset as deployedIr } from "../../worker/generated/ruleset";
import { claimOccurrence } from "../../worker/tick/claims";
import { runTick } from "../../worker/tick/run-tick";
import { campaignStages } from "../../worker/tick/stages";
import { call, event, ingest, issueKey } from "./helpers";
import { at, DAY, deliver, HOUR, isoOf, MINUTE, resetTick, subscriber, tick } from "./tick-fixtures";

/** Tuesday 2031-03-04 10:00 in New York: an occurrence of spring_winback ("0 10 * * TUE"). */
const OCCURRENCE = at("2031-03-04T15:00:00Z");
const OCCURRENCE_KEY = "2031-03-04T15:00:00.000Z";

beforeEach(resetTick);

interface Person {
  id: string;
  status: "canceled" | "active";
  canceledDaysAgo?: number;
  reason?: string;
  timezone?: string;
}

/** Ingests customers: signed up a year before the occurrence, canceled as given. */
async function people(list: readonly Person[]): Promise<void> {
  const key = await issueKey(["events:write"]);
  const all = list.flatMap((person) => {
    const since = OCCURRENCE - 365 * DAY;
    const items = [
      event("customer.updated", person.id, isoOf(since), {
        email: `${person.id}@example.com`,
        first_name: "Sam",
        ...(person.timezone ? { timezone: person.timezone } : {}),
      }),
      event("subscription.started", person.id, isoOf(since), { plan: "pro", mrr: 4900, currency: "USD" }),
    ];
    if (person.status === "canceled") {
      items.push(
        event("subscription.canceled", person.id, isoOf(OCCURRENCE - (person.canceledDaysAgo ?? 30) * DAY), {
          reason: person.reason ?? "too_expensive",
        }),
      );
    }
    return items;
  });
  for (let start = 0; start < all.length; start += 450) await ingest(key, all.slice(start, start + 450));
}

async function campaignSends(occurrence = OCCURRENCE_KEY, step = "0") {
  const { results } = await env.DB.prepare(
    `SELECT customer_id, not_before, message_key, variables FROM sends
     WHERE programme_kind = 'campaign' AND programme_key = 'spring_winback' AND occurrence = ? AND step = ?
     ORDER BY customer_id`,
  )
    .bind(occurrence, step)
    .all<{ customer_id: string; not_before: number; message_key: string; variables: string }>();
  return results;
}

function audience(count: number, prefix = "cus_a"): Person[] {
  const reasons = ["too_expensive", "unused", "hard_to_use", "switched_to_competitor", "missing_features"];
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${String(i).padStart(3, "0")}`,
    status: "canceled" as const,
    canceledDaysAgo: 14 + ((i * 7) % 160),
    reason: reasons[i % reasons.length],
  }));
}

/** The first `count` ids `prefix0`, `prefix1`, … that are not in the campaign's 10% holdout. */
function notHeld(prefix: string, count = 1): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n++)
    if (!inHoldout("spring_winback_copy", `${prefix}${n}`, 10)) ids.push(`${prefix}${n}`);
  return ids;
}

const outsiders: Person[] = [
  { id: "cus_x_active", status: "active" },
  { id: "cus_x_recent", status: "canceled", canceledDaysAgo: 5 },
  { id: "cus_x_old", status: "canceled", canceledDaysAgo: 200 },
  { id: "cus_x_shut", status: "canceled", canceledDaysAgo: 30, reason: "shutting_down" },
  { id: "cus_x_other", status: "canceled", canceledDaysAgo: 30, reason: "other" },
];

/** The deployed rules with spring_winback on another schedule (and, optionally, no quiet hours). */
function rulesWithSchedule(schedule: string): ReturnType<typeof loadRuleset> {
  const ir = structuredClone(deployedIr) as RulesetIR;
  const campaign = ir.campaigns.find((c) => c.key === "spring_winback")!;
  campaign.schedule = schedule;
  return loadRuleset({ ...ir, version: `${ir.version}+${schedule}` });
}

describe("an occurrence", () => {
  it("reaches exactly its audience minus the holdout, and records the holdout with why", async () => {
    const members = audience(60);
    const active: Person[] = Array.from({ length: 40 }, (_, i) => ({ id: `cus_act${i}`, status: "active" }));
    await people([...members, ...outsiders, ...active]);
    // Small pages, so later pages run while the campaign's earlier sends exist (the cap lookups must
    // seek per customer, not read the campaign's sends).
    const report = await runTick(env, OCCURRENCE + MINUTE, {
      ruleset: deployedRuleset(),
      audiencePageSize: 10,
    });

    const held = members.filter((m) => inHoldout("spring_winback_copy", m.id, 10)).map((m) => m.id);
    const expected = members.map((m) => m.id).filter((id) => !held.includes(id));
    expect(held.length).toBeGreaterThan(0);
    expect((await campaignSends()).map((s) => s.customer_id)).toEqual(expected);

    const { results: exclusions } = await env.DB.prepare(
      "SELECT customer_id, reason, detail FROM campaign_exclusions ORDER BY customer_id",
    ).all();
    expect(exclusions).toEqual(
      held.map((id) => ({ customer_id: id, reason: "holdout", detail: "spring_winback_copy" })),
    );

    expect(report.campaigns).toHaveLength(1);
    expect(report.campaigns[0]).toMatchObject({
      campaign: "spring_winback",
      occurrence: OCCURRENCE_KEY,
      step: "0",
      status: "done",
      audience: members.length,
      sent: expected.length,
      holdout: held.length,
    });
    // D1's own rows_read: the audience seeks the canceled customers (64 of 105) and reads each once;
    // a scan filtered row by row would read all 105.
    const canceled = members.length + 4;
    expect(report.campaigns[0]!.rows_read).toBeLessThanOrEqual(canceled + 10);
    expect(report.campaigns[0]!.rows_read_per_selected).toBeLessThanOrEqual(2);
  });

  it("is claimed once: ticking the same moment again, or two ticks at once, sends nothing new", async () => {
    await people(audience(30));
    const [first, second] = await Promise.all([tick(OCCURRENCE + MINUTE), tick(OCCURRENCE + MINUTE)]);
    const runs = [...first.campaigns, ...second.campaigns];
    expect(runs).toHaveLength(1);
    expect(first.already_claimed + second.already_claimed).toBe(1);
    const sent = (await campaignSends()).length;
    expect(runs[0]!.sent).toBe(sent);

    const again = await tick(OCCURRENCE + MINUTE);
    expect(again.campaigns).toEqual([]);
    const later = await tick(OCCURRENCE + 5 * MINUTE);
    expect(later.campaigns).toEqual([]);
    expect(await campaignSends()).toHaveLength(sent);
    const { results } = await env.DB.prepare("SELECT status FROM campaign_runs").all();
    expect(results).toEqual([{ status: "done" }]);
  });

  it("defers a customer in quiet hours to the end of them in their own zone, then delivers", async () => {
    const [tokyo, newYork, noZone] = notHeld("cus_q", 3) as [string, string, string];
    await people([
      { id: tokyo, status: "canceled", canceledDaysAgo: 30, timezone: "Asia/Tokyo" },
      { id: newYork, status: "canceled", canceledDaysAgo: 30, timezone: "America/New_York" },
      { id: noZone, status: "canceled", canceledDaysAgo: 30 },
    ]);
    const now = OCCURRENCE + MINUTE;
    const report = await tick(now);
    const sends = await campaignSends();
    const byCustomer = Object.fromEntries(sends.map((s) => [s.customer_id, s.not_before]));
    // 10:01 in New York is 00:01 in Tokyo: quiet until 09:00 Tokyo time (00:00Z).
    expect(byCustomer[tokyo]).toBe(at("2031-03-05T00:00:00Z"));
    expect(byCustomer[newYork]).toBe(now);
    expect(byCustomer[noZone]).toBe(now);
    expect(report.campaigns[0]?.deferred).toBe(1);

    const { results } = await env.DB.prepare(
      "SELECT id FROM sends WHERE customer_id = ? AND programme_kind = 'campaign'",
    )
      .bind(tokyo)
      .all<{ id: string }>();
    const early = await deliver([results[0]!.id], now + MINUTE);
    expect(early.decisions[0]).toMatchObject({ kind: "retry" });
    await deliver([results[0]!.id], at("2031-03-05T00:00:00Z"));
    const row = await env.DB.prepare("SELECT status FROM sends WHERE id = ?").bind(results[0]!.id).first();
    expect(row).toEqual({ status: "sent" });
  });

  it("leaves out customers over the campaign's frequency cap, and says so", async () => {
    // Hourly: marketing allows 2 messages per 7 days, so the third hour's occurrence is capped.
    const hourly = rulesWithSchedule("0 * * * *");
    await people([{ id: notHeld("cus_capped")[0]!, status: "canceled", canceledDaysAgo: 30 }]);
    const reports = [];
    for (const hour of [0, 1, 2])
      reports.push(await runTick(env, OCCURRENCE + hour * HOUR + MINUTE, { ruleset: hourly }));
    expect(reports.map((r) => r.campaigns[0]?.sent)).toEqual([1, 1, 0]);
    expect(reports[2]!.campaigns[0]?.frequency_capped).toBe(1);
    const exclusion = await env.DB.prepare(
      "SELECT reason, detail, occurrence FROM campaign_exclusions",
    ).first();
    expect(exclusion).toEqual({
      reason: "frequency_cap",
      detail: "marketing",
      occurrence: "2031-03-04T17:00:00.000Z",
    });
  });

  it("sends the follow-up step five days later only to those who got the first, with a real offer decision", async () => {
    await people(audience(12, "cus_f"));
    await tick(OCCURRENCE + MINUTE);
    const first = await campaignSends();
    await tick(OCCURRENCE + 5 * DAY - HOUR);
    expect(await campaignSends(OCCURRENCE_KEY, "1")).toEqual([]);
    const report = await tick(OCCURRENCE + 5 * DAY + MINUTE);
    const follow = await campaignSends(OCCURRENCE_KEY, "1");
    expect(follow.map((s) => s.customer_id)).toEqual(first.map((s) => s.customer_id));
    expect(report.campaigns.find((r) => r.step === "1")).toMatchObject({
      status: "done",
      sent: first.length,
    });
    // An offer in a message is a stored decision (source campaign), or the fallback message says there is none.
    for (const send of follow) {
      const variables = JSON.parse(send.variables) as { decision_id?: string; offer_key?: string | null };
      expect(variables.decision_id).toMatch(/^dec_/);
      const decision = await env.DB.prepare(
        "SELECT customer_id, source, offer_key FROM decisions WHERE id = ?",
      )
        .bind(variables.decision_id)
        .first<{ customer_id: string; source: string; offer_key: string | null }>();
      expect(decision).toMatchObject({ customer_id: send.customer_id, source: "campaign" });
      expect(send.message_key).toBe(decision!.offer_key ? "winback_offer" : "winback_last_call");
      expect(variables.offer_key ?? null).toBe(decision!.offer_key);
    }
  });
});

describe("a run a tick left unfinished", () => {
  it("is resumed from its keyset position by the first tick after its lease lapsed, sending each message once", async () => {
    const members = audience(25, "cus_r");
    await people(members);
    const stage = campaignStages(deployedRuleset().campaigns.get("spring_winback")!)[0]!;
    // A tick claims the occurrence and dies before sending anything.
    const claim = await claimOccurrence(env.DB, stage, OCCURRENCE, OCCURRENCE + MINUTE);
    expect(claim).not.toBeNull();
    const blocked = await tick(OCCURRENCE + 2 * MINUTE);
    expect(blocked.campaigns).toEqual([]);
    expect(blocked.already_claimed).toBe(1);
    expect(await campaignSends()).toEqual([]);

    // The next tick after the lease (15 minutes) takes the run over; a small query budget makes it
    // stop after a few pages, and the tick after that finishes from the cursor.
    const partial = await runTick(env, OCCURRENCE + 20 * MINUTE, {
      ruleset: deployedRuleset(),
      audiencePageSize: 5,
      queryBudget: 60,
    });
    expect(partial.campaigns[0]).toMatchObject({ status: "paused", resumed: true });
    const sentSoFar = (await campaignSends()).length;
    expect(sentSoFar).toBeGreaterThan(0);
    const expected = members.filter((m) => !inHoldout("spring_winback_copy", m.id, 10)).length;
    expect(sentSoFar).toBeLessThan(expected);

    const rest = await runTick(env, OCCURRENCE + 25 * MINUTE, {
      ruleset: deployedRuleset(),
      audiencePageSize: 5,
    });
    expect(rest.campaigns[0]).toMatchObject({ status: "done", resumed: true });
    const sends = await campaignSends();
    expect(sends).toHaveLength(expected);
    expect(new Set(sends.map((s) => s.customer_id)).size).toBe(expected);
    const run = await env.DB.prepare("SELECT status, attempts, stats FROM campaign_runs").first<{
      status: string;
      attempts: number;
      stats: string;
    }>();
    expect(run).toMatchObject({ status: "done", attempts: 3 });
    expect(JSON.parse(run!.stats)).toMatchObject({ sent: expected, audience: members.length });
  });

  it("expires instead of sending a day late", async () => {
    await people(audience(3, "cus_e"));
    const stage = campaignStages(deployedRuleset().campaigns.get("spring_winback")!)[0]!;
    await claimOccurrence(env.DB, stage, OCCURRENCE, OCCURRENCE + MINUTE);
    await tick(OCCURRENCE + 2 * DAY);
    expect(await campaignSends()).toEqual([]);
    const run = await env.DB.prepare("SELECT status, note FROM campaign_runs").first<{
      status: string;
      note: string;
    }>();
    expect(run?.status).toBe("expired");
  });
});

describe("catch-up after missed ticks", () => {
  it("runs only the newest due occurrence, records the others as skipped, and ignores stale ones", async () => {
    const hourly = rulesWithSchedule("0 * * * *");
    await people(audience(4, "cus_c"));
    const base = OCCURRENCE;
    await runTick(env, base + MINUTE, { ruleset: hourly });
    // Five hours without a tick: 11:00 … 15:00 New York are due; only 15:00 runs.
    const report = await runTick(env, base + 5 * HOUR + MINUTE, { ruleset: hourly });
    expect(report.campaigns.filter((r) => r.step === "0").map((r) => r.occurrence)).toEqual([
      isoOf(base + 5 * HOUR),
    ]);
    expect(report.catch_up.filter((c) => c.step === "0")).toEqual([
      {
        campaign: "spring_winback",
        step: "0",
        skipped: [1, 2, 3, 4].map((h) => isoOf(base + h * HOUR)),
        beyond_window: 0,
      },
    ]);
    const { results } = await env.DB.prepare(
      "SELECT occurrence, status FROM campaign_runs WHERE step = '0' ORDER BY occurrence",
    ).all();
    expect(results.map((r) => r.status)).toEqual([
      "done",
      "skipped",
      "skipped",
      "skipped",
      "skipped",
      "done",
    ]);

    // The skipped ones are visible through the API, with why, page by page.
    const admin = await issueKey(["admin"]);
    const listed: { occurrence: string; step: string; note: string }[] = [];
    let cursor: string | null = null;
    do {
      const page = await call(
        `/v1/admin/campaign-runs?status=skipped&campaign=spring_winback&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { key: admin },
      );
      expect(page.status).toBe(200);
      listed.push(...page.body.runs);
      cursor = page.body.next_cursor;
    } while (cursor);
    const skippedRows = await env.DB.prepare(
      "SELECT count(*) AS n FROM campaign_runs WHERE status = 'skipped'",
    ).first();
    expect(listed).toHaveLength(Number(skippedRows?.n));
    expect(
      listed
        .filter((run) => run.step === "0")
        .map((run) => run.occurrence)
        .sort(),
    ).toEqual([1, 2, 3, 4].map((h) => isoOf(base + h * HOUR)));
    expect(listed[0]!.note).toContain("catch-up");
    const bad = await call("/v1/admin/campaign-runs?status=lost&limit=0", { key: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(["?limit", "?status"]);

    // Three days down: one run, the last day's others skipped, older ones only counted.
    const late = await runTick(env, base + 3 * DAY + 5 * HOUR + MINUTE, { ruleset: hourly });
    expect(late.campaigns.filter((r) => r.step === "0")).toHaveLength(1);
    const catchUp = late.catch_up.find((c) => c.step === "0")!;
    expect(catchUp.skipped).toHaveLength(23);
    expect(catchUp.beyond_window).toBe(48);
  });

  it("the first tick ever does not replay the past", async () => {
    await people(audience(4, "cus_n"));
    const report = await tick(OCCURRENCE + 2 * HOUR);
    expect(report.campaigns).toEqual([]);
    expect(await campaignSends()).toEqual([]);
  });
});

describe("POST /v1/admin/tick", () => {
  it("runs the tick at the given moment and answers with its report (admin scope)", async () => {
    await people(audience(5, "cus_h"));
    const admin = await issueKey(["admin"]);
    const { status, body } = await call("/v1/admin/tick", {
      key: admin,
      body: { at: isoOf(OCCURRENCE + MINUTE) },
    });
    expect(status).toBe(200);
    expect(body.tick.at).toBe(isoOf(OCCURRENCE + MINUTE));
    expect(body.tick.campaigns[0]).toMatchObject({ campaign: "spring_winback", status: "done" });
    const again = await call("/v1/admin/tick", { key: admin, body: { at: isoOf(OCCURRENCE + MINUTE) } });
    expect(again.body.tick.campaigns).toEqual([]);

    const reader = await issueKey(["decisions:read"]);
    expect((await call("/v1/admin/tick", { key: reader, body: {} })).status).toBe(403);
  });

  it("refuses a bad body with every problem located", async () => {
    const admin = await issueKey(["admin"]);
    const bad = await call("/v1/admin/tick", { key: admin, body: { at: "yesterday", when: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["/at", "/when"]);
    const noZone = await call("/v1/admin/tick", { key: admin, body: { at: "2031-03-04T15:00:00" } });
    expect(noZone.status).toBe(400);
    // A date that does not exist is refused, not rolled over into 2 March.
    const noSuchDay = await call("/v1/admin/tick", { key: admin, body: { at: "2031-02-30T15:00:00Z" } });
    expect(noSuchDay.status).toBe(400);
    expect(noSuchDay.body.error.details.map((d: { path: string }) => d.path)).toEqual(["/at"]);
    const notObject = await call("/v1/admin/tick", { key: admin, body: [1] });
    expect(notObject.status).toBe(400);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM campaign_runs").first()).toEqual({ n: 0 });
  });
});

describe("a tick given a ruleset", () => {
  it("decides a campaign step's offer with the ruleset it was given, not the deployed one", async () => {
    const check = checkRuleset([
      {
        path: "rules/given.yaml",
        text: `
settings: { currency: USD, default_timezone: UTC }
rewards:
  given_reward: { amount_off: $7, expires_after: 7d }
messages:
  given_message: { subject: "A gift from {{ company_name }}", body: "{{ offer_amount }} for you" }
  given_fallback: { body: "Nothing today" }
offers:
  - key: given_offer
    reward: given_reward
    message: given_message
campaigns:
  given_campaign:
    schedule: "0 15 * * TUE"
    timezone: UTC
    audience: status == "active"
    steps:
      - { message: given_message, offer: given_offer, fallback_message: given_fallback }
`,
      },
    ]);
    expect(check.diagnostics).toEqual([]);
    const given = loadRuleset(JSON.parse(JSON.stringify(check.ruleset)) as RulesetIR);
    expect(given.version).not.toBe(deployedIr.version);
    await subscriber("cus_given", OCCURRENCE - 365 * DAY);

    const report = await runTick(env, OCCURRENCE + MINUTE, { ruleset: given });
    expect(report.campaigns).toMatchObject([{ campaign: "given_campaign", status: "done", sent: 1 }]);
    const decision = await env.DB.prepare(
      "SELECT offer_key, ruleset_version, source FROM decisions WHERE customer_id = 'cus_given'",
    ).first();
    expect(decision).toEqual({
      offer_key: "given_offer",
      ruleset_version: given.version,
      source: "campaign",
    });
    const send = await env.DB.prepare(
      "SELECT message_key, variables FROM sends WHERE customer_id = 'cus_given'",
    ).first<{ message_key: string; variables: string }>();
    expect(send?.message_key).toBe("given_message");
    expect(JSON.parse(send!.variables)).toMatchObject({ offer_key: "given_offer", offer_amount: "$7 off" });
  });
});
