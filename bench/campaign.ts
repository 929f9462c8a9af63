/**
 * Benchmark (not a test): one campaign occurrence over 100,000 customers whose audience is about
 * 10,000, run by the real tick (POST /v1/admin/tick) in the real Worker under `wrangler dev`, then
 * drained by the real queue consumer into the outbox.
 *
 * Baseline, in the same run: the same campaign at an earlier occurrence with the tick's customer
 * indexes dropped, so the audience query scans every customer (what "filter the table" costs).
 * Printed: tick time, D1 rows read per selected customer (D1's own meta, summed over the audience
 * pages and the frequency-cap lookups), sends per second through the consumer, and the ratios.
 *
 * Usage: npm run bench:campaign [-- --customers 100000 --window 60]
 * The last line printed is a JSON object with every figure.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { RulesetIR } from "../dsl";
import { loadRuleset, previousOccurrence } from "../dsl";
import { applyLocalMigrations, freePort, runWrangler, startDevServer } from "../worker/tools/wrangler-dev";

const { values } = parseArgs({
  options: { customers: { type: "string", default: "100000" }, window: { type: "string", default: "60" } },
});
const CUSTOMERS = Number(values.customers);
/** How long the consumer's throughput is measured (seconds), unless every send is out sooner. */
const WINDOW_SECONDS = Number(values.window);
const DAY = 86_400_000;
const CAMPAIGN = "spring_winback";

/**
 * Synthetic customers, one SQL statement. Of every 20: 2 canceled 14-180 days ago for a reason the
 * campaign targets (the audience, 10%), 1 canceled but outside it (half long ago, half for
 * shutting_down/other), 17 active and recently seen. Cancellations avoid days 29-31 and 59-61 so the
 * win-back sequences (days 7, 30, 60) stay quiet and the tick measures the campaign.
 */
function seedSql(anchor: number): string {
  const reasons =
    "json_array('too_expensive','unused','hard_to_use','switched_to_competitor','missing_features')";
  return `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${CUSTOMERS}),
  shaped AS (
    SELECT i, i % 20 AS bucket,
      14 + ((i * 7919) % 160) AS raw_days
    FROM n
  ),
  dated AS (
    SELECT i, bucket,
      CASE WHEN raw_days BETWEEN 29 AND 31 OR raw_days BETWEEN 59 AND 61 THEN raw_days + 3 ELSE raw_days END AS days
    FROM shaped
  )
  INSERT INTO customers (id, email, first_name, plan, mrr, currency, status, signed_up_at, canceled_at, churn_reason,
    last_active_at, ltv, attributes, first_seen_at, last_event_at)
  SELECT printf('cus_%06d', i), printf('c%06d@example.com', i), 'Sam', 'pro', 4900, 'USD',
    CASE WHEN bucket IN (0, 1, 2) THEN 'canceled' ELSE 'active' END,
    ${anchor} - 400 * ${DAY},
    CASE WHEN bucket IN (0, 1) THEN ${anchor} - days * ${DAY}
         WHEN bucket = 2 AND i % 40 = 2 THEN ${anchor} - (200 + i % 200) * ${DAY}
         WHEN bucket = 2 THEN ${anchor} - days * ${DAY} END,
    CASE WHEN bucket IN (0, 1) THEN json_extract(${reasons}, '$[' || ((i / 20) % 5) || ']')
         WHEN bucket = 2 AND i % 40 = 2 THEN 'too_expensive'
         WHEN bucket = 2 THEN CASE WHEN i % 80 = 22 THEN 'shutting_down' ELSE 'other' END END,
    ${anchor} - (i % 3) * ${DAY}, 0, '{}', ${anchor} - 400 * ${DAY}, ${anchor}
  FROM dated`;
}

const TICK_INDEXES = {
  customers_status_id: "CREATE INDEX customers_status_id ON customers (status, id)",
  customers_status_canceled_at:
    "CREATE INDEX customers_status_canceled_at ON customers (status, canceled_at, id)",
};

interface CampaignRun {
  campaign: string;
  occurrence: string;
  step: string;
  status: string;
  audience: number;
  sent: number;
  holdout: number;
  frequency_capped: number;
  rows_read: number;
  rows_read_per_selected: number | null;
}

interface TickAnswer {
  tick: { campaigns: CampaignRun[]; rows_read: number; queries: number; errors: unknown[] };
}

async function d1(persistTo: string, sql: string): Promise<void> {
  await runWrangler(["d1", "execute", "rebound", "--local", "--persist-to", persistTo, "--command", sql], {
    quiet: true,
  });
}

async function adminTick(
  url: string,
  key: string,
  at: number,
): Promise<{ ms: number; run: CampaignRun; answer: TickAnswer }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/admin/tick`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ at: new Date(at).toISOString() }),
    signal: AbortSignal.timeout(300_000),
  });
  const ms = performance.now() - started;
  const answer = (await response.json()) as TickAnswer;
  if (response.status !== 200) throw new Error(`tick ${response.status}: ${JSON.stringify(answer)}`);
  const run = answer.tick.campaigns.find((r) => r.campaign === CAMPAIGN && r.step === "0");
  if (!run || run.status !== "done")
    throw new Error(`the campaign did not run to completion: ${JSON.stringify(answer.tick)}`);
  return { ms, run, answer };
}

/** Sends not yet delivered (queued, sending or failed), counted through GET /v1/sends pages. */
async function undelivered(url: string, key: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const query: string = `status=queued,sending,failed&limit=200${cursor ? `&cursor=${cursor}` : ""}`;
    const response = await fetch(`${url}/v1/sends?${query}`, {
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { sends: unknown[]; next_cursor: string | null };
    count += body.sends.length;
    cursor = body.next_cursor;
  } while (cursor);
  return count;
}

/**
 * Consumer throughput: how many sends the Worker's own queue consumer delivers while we watch,
 * over at most `windowMs` (or until none is left).
 */
async function deliveryRate(
  url: string,
  key: string,
  windowMs: number,
): Promise<{ delivered: number; seconds: number }> {
  const started = performance.now();
  const first = await undelivered(url, key);
  let left = first;
  while (performance.now() - started < windowMs && left > 0) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    left = await undelivered(url, key);
  }
  return { delivered: first - left, seconds: (performance.now() - started) / 1000 };
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function main(): Promise<void> {
  // The ruleset the Worker is built with (npm run build writes it before every dev start).
  const ir = JSON.parse(
    readFileSync(new URL("../worker/generated/ruleset.json", import.meta.url), "utf8"),
  ) as RulesetIR;
  const ruleset = loadRuleset(ir);
  const campaign = ruleset.campaigns.get(CAMPAIGN);
  if (!campaign) throw new Error(`the rules have no campaign ${CAMPAIGN}`);
  // Occurrences in the past, so the consumer (on the wall clock) delivers at once: the latest for the
  // measured run, and one three weeks earlier (outside the frequency cap's week) for the baseline.
  const occurrence = previousOccurrence(campaign.schedule, campaign.timezone, Date.now() - DAY)!;
  const baselineOccurrence = previousOccurrence(campaign.schedule, campaign.timezone, occurrence - 20 * DAY)!;

  const stateDir = mkdtempSync(join(tmpdir(), "rebound-bench-campaign-"));
  const adminKey = `bench-${crypto.randomUUID()}`;
  const start = async () =>
    startDevServer({ port: await freePort(), persistTo: stateDir, secrets: { REBOUND_ADMIN_KEY: adminKey } });
  try {
    await applyLocalMigrations({ persistTo: stateDir, quiet: true });
    const seedStarted = performance.now();
    await d1(stateDir, seedSql(occurrence));
    console.log(`seeded ${CUSTOMERS} customers in ${round((performance.now() - seedStarted) / 1000, 1)} s`);

    // Baseline: no index serves the audience, so it is read by scanning customers.
    await d1(
      stateDir,
      Object.keys(TICK_INDEXES)
        .map((name) => `DROP INDEX ${name};`)
        .join(" "),
    );
    let server = await start();
    const baseline = await adminTick(server.url, adminKey, baselineOccurrence + 60_000);
    await server.stop();
    console.log(
      `baseline (scan): tick ${round(baseline.ms)} ms, audience ${baseline.run.audience}, rows read ${baseline.run.rows_read} ` +
        `(${baseline.run.rows_read_per_selected} per selected)`,
    );

    // The baseline's sends are not delivered: removing them keeps the measured run's cap lookups and
    // its delivery count to its own occurrence. Clearing the watermarks makes the measured tick a first
    // tick, so it does not also catch up three weeks of win-back steps.
    await d1(
      stateDir,
      `DELETE FROM sends; DELETE FROM outbox; DELETE FROM tick_state; ${Object.values(TICK_INDEXES)
        .map((sql) => `${sql};`)
        .join(" ")}`,
    );
    server = await start();
    const measured = await adminTick(server.url, adminKey, occurrence + 60_000);
    const rate = await deliveryRate(server.url, adminKey, WINDOW_SECONDS * 1000);
    await server.stop();
    const sendsPerSecond = rate.delivered / rate.seconds;
    console.log(
      `indexed: tick ${round(measured.ms)} ms, audience ${measured.run.audience} (sent ${measured.run.sent}, holdout ` +
        `${measured.run.holdout}, capped ${measured.run.frequency_capped}), rows read ${measured.run.rows_read} ` +
        `(${measured.run.rows_read_per_selected} per selected)`,
    );
    console.log(
      `queue consumer (local miniflare queue, batches of 25): ${rate.delivered} sends delivered to the outbox in ` +
        `${round(rate.seconds, 1)} s = ${round(sendsPerSecond, 1)} sends/s`,
    );
    const perSelected = measured.run.rows_read_per_selected ?? 0;
    const baselinePerSelected = baseline.run.rows_read_per_selected ?? 0;
    console.log(
      `rows read per selected customer: ${perSelected} vs ${baselinePerSelected} scanning (${round(baselinePerSelected / perSelected, 1)}x fewer); ` +
        `target <= 2: ${perSelected <= 2 ? "met" : "NOT met"}`,
    );
    console.log(
      JSON.stringify({
        bench: "campaign",
        customers: CUSTOMERS,
        campaign: CAMPAIGN,
        occurrence: new Date(occurrence).toISOString(),
        audience: measured.run.audience,
        sent: measured.run.sent,
        holdout: measured.run.holdout,
        tick_ms: round(measured.ms),
        tick_rows_read_total: measured.answer.tick.rows_read,
        tick_queries: measured.answer.tick.queries,
        rows_read: measured.run.rows_read,
        rows_read_per_selected: perSelected,
        sends_per_second: round(sendsPerSecond, 1),
        delivered_in_window: rate.delivered,
        delivery_window_seconds: round(rate.seconds, 1),
        baseline_tick_ms: round(baseline.ms),
        baseline_rows_read: baseline.run.rows_read,
        baseline_rows_read_per_selected: baselinePerSelected,
        rows_read_ratio_vs_scan: round(perSelected / baselinePerSelected, 3),
        tick_time_ratio_vs_scan: round(measured.ms / baseline.ms, 3),
        target_rows_read_per_selected: 2,
        target_met: perSelected <= 2,
      }),
    );
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
