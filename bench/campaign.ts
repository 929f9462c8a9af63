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
 * The API must stay responsive while a campaign delivers: the app's decision calls share the
 * database with the consumer. So the bench also times POST /v1/decisions (one at a time, each for a
 * customer not asked before, so each reads, decides and writes) while the server is idle, before the
 * tick, and while the consumer delivers, after it, and checks the ratio of the two against the bound
 * docs/sends.md states (`DELIVERY_LATENCY_BOUND`). Meanwhile it asks GET /v1/sends once a second
 * whether anything is left undelivered; a slow answer is counted, never fatal.
 *
 * The bench stops the `wrangler dev` it starts whatever happens: on success, on an error, and on
 * SIGINT or SIGTERM.
 *
 * Usage: npm run bench:campaign [-- --customers 100000 --window 120 --decisions 300]
 * The last line printed is a JSON object with every figure.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { RulesetIR } from "../dsl";
import { loadRuleset, previousOccurrence } from "../dsl";
import {
  applyLocalMigrations,
  type DevServer,
  freePort,
  runWrangler,
  startDevServer,
} from "../worker/tools/wrangler-dev";
import { benchStateDir, cleanUp } from "./local-state";

const { values } = parseArgs({
  options: {
    customers: { type: "string", default: "100000" },
    window: { type: "string", default: "120" },
    decisions: { type: "string", default: "300" },
  },
});
const CUSTOMERS = Number(values.customers);
/** The longest the bench waits for the consumer to deliver everything (seconds). */
const WINDOW_SECONDS = Number(values.window);
/** Decisions timed while idle (after a warm-up); during delivery, as many as fit. */
const IDLE_DECISIONS = Number(values.decisions);
const WARM_UP_DECISIONS = 10;
const DAY = 86_400_000;
const CAMPAIGN = "spring_winback";
/** A request that takes longer than this is given up on and counted (never fatal). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The bound docs/sends.md states for the API while the consumer delivers: decision latency during
 * delivery over decision latency idle, at the median and at the 99th percentile.
 */
const DELIVERY_LATENCY_BOUND = Object.freeze({ p50Ratio: 2, p99Ratio: 3 });

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

/** The customers the decisions ask about: active ones (never in the campaign's audience), each once. */
function* activeCustomers(): Generator<string> {
  for (let i = 1; i <= CUSTOMERS; i++) {
    if (i % 20 >= 3) yield `cus_${String(i).padStart(6, "0")}`;
  }
}

/** One timed decision: milliseconds, or null when it did not answer within REQUEST_TIMEOUT_MS. */
async function timedDecision(url: string, key: string, customerId: string): Promise<number | null> {
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(`${url}/v1/decisions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ customer_id: customerId, context: "cancel_flow", reason: "too_expensive" }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") return null;
    throw error;
  }
  const text = await response.text();
  if (response.status !== 200) throw new Error(`decision for ${customerId}: ${response.status} ${text}`);
  return performance.now() - started;
}

/** Latencies of a run of decisions; one that timed out counts as REQUEST_TIMEOUT_MS (a lower bound). */
interface LatencySample {
  latencies: number[];
  timeouts: number;
}

function record(sample: LatencySample, ms: number | null): void {
  if (ms === null) sample.timeouts += 1;
  sample.latencies.push(ms ?? REQUEST_TIMEOUT_MS);
}

/** The nearest-rank percentile `p` (0-100) of `values`. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Decisions one after another on an otherwise idle server, after a few to warm the isolate up. */
async function idleDecisions(url: string, key: string, customers: Iterator<string>): Promise<LatencySample> {
  for (let i = 0; i < WARM_UP_DECISIONS; i++) await timedDecision(url, key, nextCustomer(customers));
  const sample: LatencySample = { latencies: [], timeouts: 0 };
  for (let i = 0; i < IDLE_DECISIONS; i++)
    record(sample, await timedDecision(url, key, nextCustomer(customers)));
  return sample;
}

function nextCustomer(customers: Iterator<string>): string {
  const next = customers.next();
  if (next.done) throw new Error("ran out of customers to ask about: raise --customers");
  return next.value;
}

/** One look at whether any send is still queued, sending or failed. */
interface Poll {
  ms: number;
  /** True: nothing left; false: something left; null: no answer within REQUEST_TIMEOUT_MS. */
  empty: boolean | null;
}

async function pollUndelivered(url: string, key: string): Promise<Poll> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/v1/sends?status=queued,sending,failed&limit=1`, {
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json()) as { sends?: unknown[] };
    if (response.status !== 200 || !body.sends) throw new Error(`GET /v1/sends ${response.status}`);
    return { ms: performance.now() - started, empty: body.sends.length === 0 };
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return { ms: performance.now() - started, empty: null };
    }
    throw error;
  }
}

/**
 * Sends not yet delivered, counted through GET /v1/sends pages: null when a page did not answer in
 * time (the count is then unknown, and the bench goes on).
 */
async function undelivered(url: string, key: string): Promise<number | null> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const query: string = `status=queued,sending,failed&limit=200${cursor ? `&cursor=${cursor}` : ""}`;
    try {
      const response = await fetch(`${url}/v1/sends?${query}`, {
        headers: { authorization: `Bearer ${key}` },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = (await response.json()) as { sends: unknown[]; next_cursor: string | null };
      count += body.sends.length;
      cursor = body.next_cursor;
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") return null;
      throw error;
    }
  } while (cursor);
  return count;
}

/** What happened while the consumer delivered. */
interface Delivery {
  decisions: LatencySample;
  polls: Poll[];
  /** Seconds from the tick's answer until a poll found nothing left (null: not within the window). */
  drainedAfterSeconds: number | null;
  /** Sends still undelivered when the window closed (0 when drained; null when unknown). */
  leftAtEnd: number | null;
}

/**
 * From the tick's answer until nothing is left to deliver (or the window closes): decisions one
 * after another, and a poll of GET /v1/sends every second beside them.
 */
async function duringDelivery(
  url: string,
  key: string,
  customers: Iterator<string>,
  tickAnswered: number,
): Promise<Delivery> {
  const deadline = tickAnswered + WINDOW_SECONDS * 1000;
  const polls: Poll[] = [];
  let drainedAt: number | null = null;
  let watching = true;
  const watcher = (async () => {
    while (watching && performance.now() < deadline) {
      const poll = await pollUndelivered(url, key);
      polls.push(poll);
      if (poll.empty === true) {
        drainedAt = performance.now();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    watching = false;
  })();
  const decisions: LatencySample = { latencies: [], timeouts: 0 };
  try {
    while (watching) record(decisions, await timedDecision(url, key, nextCustomer(customers)));
  } finally {
    watching = false;
    await watcher;
  }
  const drainedAfterSeconds = drainedAt === null ? null : (drainedAt - tickAnswered) / 1000;
  return {
    decisions,
    polls,
    drainedAfterSeconds,
    leftAtEnd: drainedAt === null ? await undelivered(url, key) : 0,
  };
}

/**
 * The consumer's throughput as the sends rows record it (`sent_at` is the consumer's wall clock),
 * read from the stopped server's database: sends delivered, and the span from the first to the last.
 */
async function deliveredSends(persistTo: string): Promise<{ sent: number; seconds: number }> {
  const output = await runWrangler(
    [
      "d1",
      "execute",
      "rebound",
      "--local",
      "--persist-to",
      persistTo,
      "--json",
      "--command",
      "SELECT count(*) AS sent, min(sent_at) AS first, max(sent_at) AS last FROM sends WHERE status = 'sent'",
    ],
    { quiet: true },
  );
  const parsed = JSON.parse(output.slice(output.indexOf("["))) as {
    results: { sent: number; first: number | null; last: number | null }[];
  }[];
  const row = parsed[0]?.results[0];
  if (!row) throw new Error(`unexpected d1 execute output: ${output}`);
  return {
    sent: row.sent,
    seconds: row.first === null || row.last === null ? 0 : (row.last - row.first) / 1000,
  };
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

  const persistTo = benchStateDir("campaign");
  const adminKey = `bench-${crypto.randomUUID()}`;
  const start = async (): Promise<DevServer> =>
    startDevServer({ port: await freePort(), persistTo, secrets: { REBOUND_ADMIN_KEY: adminKey } });
  try {
    await applyLocalMigrations({ persistTo, quiet: true });
    const seedStarted = performance.now();
    await d1(persistTo, seedSql(occurrence));
    console.log(`seeded ${CUSTOMERS} customers in ${round((performance.now() - seedStarted) / 1000, 1)} s`);

    // Baseline: no index serves the audience, so it is read by scanning customers.
    await d1(
      persistTo,
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
      persistTo,
      `DELETE FROM sends; DELETE FROM outbox; DELETE FROM tick_state; ${Object.values(TICK_INDEXES)
        .map((sql) => `${sql};`)
        .join(" ")}`,
    );
    server = await start();
    const customers = activeCustomers();
    const idle = await idleDecisions(server.url, adminKey, customers);
    const idleP50 = percentile(idle.latencies, 50);
    const idleP99 = percentile(idle.latencies, 99);
    console.log(
      `decisions idle: p50 ${round(idleP50, 1)} ms, p99 ${round(idleP99, 1)} ms (${idle.latencies.length} asked one at a time` +
        `${idle.timeouts > 0 ? `, ${idle.timeouts} timed out` : ""})`,
    );

    const measured = await adminTick(server.url, adminKey, occurrence + 60_000);
    const delivery = await duringDelivery(server.url, adminKey, customers, performance.now());
    await server.stop();
    const delivered = await deliveredSends(persistTo);
    const sendsPerSecond = delivered.seconds > 0 ? delivered.sent / delivered.seconds : 0;
    const busyP50 = percentile(delivery.decisions.latencies, 50);
    const busyP99 = percentile(delivery.decisions.latencies, 99);
    const p50Ratio = busyP50 / idleP50;
    const p99Ratio = busyP99 / idleP99;
    const boundMet =
      delivery.decisions.latencies.length > 0 &&
      p50Ratio <= DELIVERY_LATENCY_BOUND.p50Ratio &&
      p99Ratio <= DELIVERY_LATENCY_BOUND.p99Ratio;
    const pollTimeouts = delivery.polls.filter((poll) => poll.empty === null).length;
    const pollMaxMs = Math.max(0, ...delivery.polls.map((poll) => poll.ms));

    console.log(
      `indexed: tick ${round(measured.ms)} ms, audience ${measured.run.audience} (sent ${measured.run.sent}, holdout ` +
        `${measured.run.holdout}, capped ${measured.run.frequency_capped}), rows read ${measured.run.rows_read} ` +
        `(${measured.run.rows_read_per_selected} per selected)`,
    );
    console.log(
      `queue consumer (local miniflare queue, batches of 25): ${delivered.sent} sends delivered to the outbox in ` +
        `${round(delivered.seconds, 1)} s, first to last = ${round(sendsPerSecond, 1)} sends/s; ` +
        (delivery.drainedAfterSeconds === null
          ? `NOT drained within ${WINDOW_SECONDS} s of the tick's answer (${delivery.leftAtEnd ?? "unknown"} left)`
          : `nothing left ${round(delivery.drainedAfterSeconds, 1)} s after the tick answered`),
    );
    console.log(
      `decisions during delivery: p50 ${round(busyP50, 1)} ms, p99 ${round(busyP99, 1)} ms ` +
        `(${delivery.decisions.latencies.length} asked one at a time` +
        `${delivery.decisions.timeouts > 0 ? `, ${delivery.decisions.timeouts} timed out` : ""}); ` +
        `vs idle ${round(p50Ratio)}x at p50, ${round(p99Ratio)}x at p99; ` +
        `bound <= ${DELIVERY_LATENCY_BOUND.p50Ratio}x / ${DELIVERY_LATENCY_BOUND.p99Ratio}x: ${boundMet ? "met" : "NOT met"}`,
    );
    console.log(
      `GET /v1/sends polls during delivery: ${delivery.polls.length}, slowest ${round(pollMaxMs, 1)} ms, ` +
        `${pollTimeouts} without an answer within ${REQUEST_TIMEOUT_MS / 1000} s`,
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
        delivered: delivered.sent,
        delivery_seconds: round(delivered.seconds, 1),
        drained_after_tick_seconds:
          delivery.drainedAfterSeconds === null ? null : round(delivery.drainedAfterSeconds, 1),
        undelivered_at_window_end: delivery.leftAtEnd,
        delivery_window_seconds: WINDOW_SECONDS,
        idle_decisions: idle.latencies.length,
        idle_decision_timeouts: idle.timeouts,
        idle_decision_p50_ms: round(idleP50, 1),
        idle_decision_p99_ms: round(idleP99, 1),
        delivery_decisions: delivery.decisions.latencies.length,
        delivery_decision_timeouts: delivery.decisions.timeouts,
        delivery_decision_p50_ms: round(busyP50, 1),
        delivery_decision_p99_ms: round(busyP99, 1),
        decision_p50_ratio: round(p50Ratio),
        decision_p99_ratio: round(p99Ratio),
        bound_p50_ratio: DELIVERY_LATENCY_BOUND.p50Ratio,
        bound_p99_ratio: DELIVERY_LATENCY_BOUND.p99Ratio,
        bound_met: boundMet,
        sends_polls: delivery.polls.length,
        sends_poll_max_ms: round(pollMaxMs, 1),
        sends_poll_timeouts: pollTimeouts,
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
    await cleanUp();
  }
}

await main();
