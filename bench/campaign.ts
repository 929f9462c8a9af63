/**
 * Benchmark (not a test): one campaign occurrence over 1,000,000 customers whose audience is about
 * 10,000 (1%, `--audience-percent`, at most 10), on one D1 database and on four shards, in the same
 * run: the real tick (POST /v1/admin/tick, which on four shards runs every shard's part in parallel
 * and answers one merged report) in the real Worker under `wrangler dev`, then drained by the real
 * queue consumer into the outbox. The one-shard run is the baseline the four-shard run is compared with.
 *
 * Printed per deployment: seeding time (not a figure of merit), tick time (every tick until the
 * occurrence step is done: a large audience pauses on the query budget and the next tick resumes
 * it), D1 rows read per selected customer (D1's own meta, summed over the audience pages and the
 * frequency-cap lookups), sends per second through the consumer; then the ratios four shards over one.
 *
 * Local D1 under miniflare runs every database in one workerd process on this machine's cores, so
 * the four-shard speed-up measured here is a lower bound of what four D1 databases (each its own
 * single-threaded SQLite on its own machine) give.
 *
 * The API must stay responsive while a campaign delivers: the app's decision calls share the
 * database with the consumer. So the bench also times POST /v1/decisions (one at a time, each for a
 * customer not asked before, so each reads, decides and writes) while the server is idle, before the
 * tick, and while the consumer delivers, after it, and checks the ratio of the two against the bound
 * docs/sends.md states (`DELIVERY_LATENCY_BOUND`). Meanwhile it asks GET /v1/sends once a second
 * whether anything is left undelivered; a slow answer is counted, never fatal.
 *
 * With `--scan-baseline`, each deployment first runs the same campaign at an earlier occurrence with
 * the tick's customer indexes dropped, so the audience query scans every customer (what "filter the
 * table" costs), then restores the indexes and clears that run's sends before the measured run.
 *
 * Customers are written straight into each shard's database (bench/campaign-seed.ts), never through
 * the API. The bench stops the `wrangler dev` it starts whatever happens: on success, on an error, and
 * on SIGINT or SIGTERM.
 *
 * The audience stays near 10,000 because the local queue (miniflare's broker) holds a timer per
 * message and refuses more than 10,000 at once: a tick that enqueues 100,000 sends fails locally
 * ("Unknown Internal Error"), which Cloudflare Queues do not.
 *
 * Usage: npm run bench:campaign [-- --customers 1000000 --audience-percent 1 --shards 1,4 --window 900
 *   --decisions 300 --scan-baseline]
 * The last line printed is a JSON object with every figure.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { RulesetIR } from "../dsl";
import { loadRuleset, previousOccurrence } from "../dsl";
import type { DevServer } from "../worker/tools/wrangler-dev";
import { customerId, isActive, seedCustomers, seedShape } from "./campaign-seed";
import { createDeployment, type LocalDeployment, queryEveryShard, startDeployment } from "./local-deployment";
import { benchStateDir, cleanUp } from "./local-state";

const { values } = parseArgs({
  options: {
    customers: { type: "string", default: "1000000" },
    "audience-percent": { type: "string", default: "1" },
    shards: { type: "string", default: "1,4" },
    window: { type: "string", default: "900" },
    decisions: { type: "string", default: "300" },
    "scan-baseline": { type: "boolean", default: false },
  },
});
const CUSTOMERS = Number(values.customers);
const AUDIENCE_PERCENT = Number(values["audience-percent"]);
const SHAPE = seedShape(CUSTOMERS, AUDIENCE_PERCENT);
/** The deployments compared, by shard count; the first is the baseline of the ratios. */
const SHARD_COUNTS = values.shards.split(",").map(Number);
/** The longest the bench waits for the consumer to deliver everything (seconds). */
const WINDOW_SECONDS = Number(values.window);
/** Decisions timed while idle (after a warm-up); during delivery, as many as fit. */
const IDLE_DECISIONS = Number(values.decisions);
const SCAN_BASELINE = values["scan-baseline"];
const WARM_UP_DECISIONS = 10;
/** The indexes the tick's audience queries use, dropped for the scan baseline. */
const TICK_INDEXES = {
  customers_status_id: "CREATE INDEX customers_status_id ON customers (status, id)",
  customers_status_canceled_at:
    "CREATE INDEX customers_status_canceled_at ON customers (status, canceled_at, id)",
};
const DAY = 86_400_000;
const MINUTE = 60_000;
const CAMPAIGN = "spring_winback";
/** A request that takes longer than this is given up on and counted (never fatal). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Ticks one occurrence step may take before the bench gives up (each resumes the last one's run). */
const MAX_TICKS = 100;
/** Tick time between ticks: the cron's period. */
const TICK_PERIOD_MS = 5 * MINUTE;

/**
 * The bound docs/sends.md states for the API while the consumer delivers: decision latency during
 * delivery over decision latency idle, at the median and at the 99th percentile.
 */
const DELIVERY_LATENCY_BOUND = Object.freeze({ p50Ratio: 2, p99Ratio: 3 });

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
}

/** One shard's part of a sharded tick (`tick.shards`, worker/tick/report.ts). */
interface ShardTickFigures {
  shard: number;
  runs: number;
  sent: number;
  queries: number;
  rows_read: number;
  errors: number;
}

interface TickAnswer {
  tick: {
    campaigns: CampaignRun[];
    rows_read: number;
    queries: number;
    errors: unknown[];
    lifecycle: { rows_read: number };
    dunning: { rows_read: number };
    shards?: ShardTickFigures[];
  };
}

/**
 * One tick at `at`. `strict`: any programme's error fails the bench; otherwise (the scan baseline, whose
 * dropped indexes other programmes name) only the campaign's own outcome counts.
 */
async function adminTick(
  url: string,
  key: string,
  at: number,
  strict: boolean,
): Promise<{ ms: number; answer: TickAnswer }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/admin/tick`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ at: new Date(at).toISOString() }),
    signal: AbortSignal.timeout(600_000),
  });
  const ms = performance.now() - started;
  const answer = (await response.json()) as TickAnswer;
  if (response.status !== 200) throw new Error(`tick ${response.status}: ${JSON.stringify(answer)}`);
  if (strict && answer.tick.errors.length > 0)
    throw new Error(`the tick failed: ${JSON.stringify(answer.tick.errors)}`);
  return { ms, answer };
}

/**
 * A dry tick before the occurrence (nothing due, nothing written), so the measured tick does not
 * also pay for the first use of every shard's database.
 */
async function warmUpTick(url: string, key: string, occurrence: number): Promise<void> {
  const response = await fetch(`${url}/v1/admin/tick`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ at: new Date(occurrence - 30 * MINUTE).toISOString(), dry_run: true }),
    signal: AbortSignal.timeout(600_000),
  });
  if (response.status !== 200) throw new Error(`warm-up tick ${response.status}: ${await response.text()}`);
}

/** The campaign's first step at one occurrence, over every tick it took. */
interface CampaignTicks {
  ticks: number;
  /** Every tick's answer time, added up. */
  ms: number;
  audience: number;
  sent: number;
  holdout: number;
  frequency_capped: number;
  /** Rows the audience pages read. */
  rows_read: number;
  /** Rows and queries of the whole ticks (every programme). */
  tick_rows_read: number;
  tick_queries: number;
  /** Of those, what the win-back sequences' and dunning's scans read. */
  lifecycle_rows_read: number;
  dunning_rows_read: number;
  /** Each tick's per-shard figures (sharded deployments). */
  shards: ShardTickFigures[][];
}

/**
 * Ticks at the occurrence, then every TICK_PERIOD_MS of tick time, until the campaign's first step
 * is done (a run paused on the query budget resumes on the next tick).
 */
async function runCampaign(
  url: string,
  key: string,
  occurrence: number,
  strict = true,
): Promise<CampaignTicks> {
  const totals: CampaignTicks = {
    ticks: 0,
    ms: 0,
    audience: 0,
    sent: 0,
    holdout: 0,
    frequency_capped: 0,
    rows_read: 0,
    tick_rows_read: 0,
    tick_queries: 0,
    lifecycle_rows_read: 0,
    dunning_rows_read: 0,
    shards: [],
  };
  while (totals.ticks < MAX_TICKS) {
    const { ms, answer } = await adminTick(
      url,
      key,
      occurrence + MINUTE + totals.ticks * TICK_PERIOD_MS,
      strict,
    );
    totals.ticks += 1;
    totals.ms += ms;
    totals.tick_rows_read += answer.tick.rows_read;
    totals.tick_queries += answer.tick.queries;
    totals.lifecycle_rows_read += answer.tick.lifecycle.rows_read;
    totals.dunning_rows_read += answer.tick.dunning.rows_read;
    if (answer.tick.shards) totals.shards.push(answer.tick.shards);
    const runs = answer.tick.campaigns.filter((run) => run.campaign === CAMPAIGN && run.step === "0");
    for (const run of runs) {
      totals.audience += run.audience;
      totals.sent += run.sent;
      totals.holdout += run.holdout;
      totals.frequency_capped += run.frequency_capped;
      totals.rows_read += run.rows_read;
    }
    if (runs.some((run) => run.status === "done")) return totals;
    if (!runs.some((run) => run.status === "paused"))
      throw new Error(`the campaign did not run to completion: ${JSON.stringify(answer.tick.campaigns)}`);
  }
  throw new Error(`the campaign was not done after ${MAX_TICKS} ticks`);
}

/** The customers the decisions ask about: active ones (never in the campaign's audience), each once. */
function* activeCustomers(): Generator<string> {
  for (let n = 1; n <= CUSTOMERS; n++) {
    if (isActive(SHAPE, n)) yield customerId(n);
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
 * read from the stopped deployment's databases: sends delivered on every shard, and the span from the
 * first to the last on any.
 */
async function deliveredSends(deployment: LocalDeployment): Promise<{ sent: number; seconds: number }> {
  const shards = await queryEveryShard<{ sent: number; first: number | null; last: number | null }>(
    deployment,
    "SELECT count(*) AS sent, min(sent_at) AS first, max(sent_at) AS last FROM sends WHERE status = 'sent'",
  );
  const rows = shards.flat();
  const firsts = rows.flatMap((row) => (row.first === null ? [] : [row.first]));
  const lasts = rows.flatMap((row) => (row.last === null ? [] : [row.last]));
  return {
    sent: rows.reduce((sum, row) => sum + row.sent, 0),
    seconds: firsts.length === 0 ? 0 : (Math.max(...lasts) - Math.min(...firsts)) / 1000,
  };
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The ratio of two figures, or null when the baseline is zero. */
function ratio(value: number, baseline: number): number | null {
  return baseline === 0 ? null : round(value / baseline, 3);
}

/** The scan baseline's figures, and the measured run's against them. */
function scanFigures(scan: CampaignTicks, campaign: CampaignTicks) {
  const perSelected = campaign.audience === 0 ? 0 : campaign.rows_read / campaign.audience;
  const scanPerSelected = scan.audience === 0 ? 0 : scan.rows_read / scan.audience;
  return {
    baseline_ticks: scan.ticks,
    baseline_tick_ms: round(scan.ms),
    baseline_audience: scan.audience,
    baseline_rows_read: scan.rows_read,
    baseline_rows_read_per_selected: round(scanPerSelected),
    rows_read_ratio_vs_scan: ratio(perSelected, scanPerSelected),
    tick_time_ratio_vs_scan: ratio(campaign.ms, scan.ms),
  };
}

/** What one deployment measured (the JSON line's `shards_<n>` object). */
type DeploymentFigures = ReturnType<typeof figuresOf>;

function figuresOf(
  shards: number,
  scan: CampaignTicks | null,
  seeded: { perShard: number[]; seconds: number },
  idle: LatencySample,
  campaign: CampaignTicks,
  delivery: Delivery,
  delivered: { sent: number; seconds: number },
) {
  const idleP50 = percentile(idle.latencies, 50);
  const idleP99 = percentile(idle.latencies, 99);
  const busyP50 = percentile(delivery.decisions.latencies, 50);
  const busyP99 = percentile(delivery.decisions.latencies, 99);
  const p50Ratio = busyP50 / idleP50;
  const p99Ratio = busyP99 / idleP99;
  const perSelected = campaign.audience === 0 ? 0 : campaign.rows_read / campaign.audience;
  return {
    shards,
    customers_per_shard: seeded.perShard,
    seed_seconds: round(seeded.seconds, 1),
    audience: campaign.audience,
    sent: campaign.sent,
    holdout: campaign.holdout,
    frequency_capped: campaign.frequency_capped,
    ticks: campaign.ticks,
    tick_ms: round(campaign.ms),
    tick_ms_per_selected: round(campaign.audience === 0 ? 0 : campaign.ms / campaign.audience, 4),
    tick_rows_read_total: campaign.tick_rows_read,
    tick_queries: campaign.tick_queries,
    tick_lifecycle_rows_read: campaign.lifecycle_rows_read,
    tick_dunning_rows_read: campaign.dunning_rows_read,
    rows_read: campaign.rows_read,
    rows_read_per_selected: round(perSelected),
    per_shard_ticks: campaign.shards,
    sends_per_second: round(delivered.seconds > 0 ? delivered.sent / delivered.seconds : 0, 1),
    delivered: delivered.sent,
    delivery_seconds: round(delivered.seconds, 1),
    drained_after_tick_seconds:
      delivery.drainedAfterSeconds === null ? null : round(delivery.drainedAfterSeconds, 1),
    undelivered_at_window_end: delivery.leftAtEnd,
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
    bound_met:
      delivery.decisions.latencies.length > 0 &&
      p50Ratio <= DELIVERY_LATENCY_BOUND.p50Ratio &&
      p99Ratio <= DELIVERY_LATENCY_BOUND.p99Ratio,
    sends_polls: delivery.polls.length,
    sends_poll_max_ms: round(Math.max(0, ...delivery.polls.map((poll) => poll.ms)), 1),
    sends_poll_timeouts: delivery.polls.filter((poll) => poll.empty === null).length,
    rows_read_target_met: perSelected <= 2,
    ...(scan ? scanFigures(scan, campaign) : {}),
  };
}

/** The lines a deployment's figures print as. */
function report(figures: DeploymentFigures): string[] {
  const label = `${figures.shards} shard${figures.shards === 1 ? "" : "s"}`;
  return [
    `${label}: seeded ${CUSTOMERS} customers (${figures.customers_per_shard.join(" + ")}) in ${figures.seed_seconds} s`,
    `${label}: tick ${figures.tick_ms} ms over ${figures.ticks} tick(s), audience ${figures.audience} (sent ` +
      `${figures.sent}, holdout ${figures.holdout}, capped ${figures.frequency_capped}), rows read ` +
      `${figures.rows_read} (${figures.rows_read_per_selected} per selected; target <= 2: ` +
      `${figures.rows_read_target_met ? "met" : "NOT met"})`,
    `${label}: queue consumer (local miniflare queue, batches of 25): ${figures.delivered} sends delivered to ` +
      `the outbox in ${figures.delivery_seconds} s, first to last = ${figures.sends_per_second} sends/s; ` +
      (figures.drained_after_tick_seconds === null
        ? `NOT drained within ${WINDOW_SECONDS} s of the tick's answer (${figures.undelivered_at_window_end ?? "unknown"} left)`
        : `nothing left ${figures.drained_after_tick_seconds} s after the tick answered`),
    `${label}: decisions idle p50 ${figures.idle_decision_p50_ms} ms, p99 ${figures.idle_decision_p99_ms} ms; ` +
      `during delivery p50 ${figures.delivery_decision_p50_ms} ms, p99 ${figures.delivery_decision_p99_ms} ms ` +
      `(${figures.decision_p50_ratio}x / ${figures.decision_p99_ratio}x; bound <= ` +
      `${DELIVERY_LATENCY_BOUND.p50Ratio}x / ${DELIVERY_LATENCY_BOUND.p99Ratio}x: ${figures.bound_met ? "met" : "NOT met"}); ` +
      `GET /v1/sends polls ${figures.sends_polls}, slowest ${figures.sends_poll_max_ms} ms, ` +
      `${figures.sends_poll_timeouts} without an answer within ${REQUEST_TIMEOUT_MS / 1000} s`,
  ];
}

/** Seeds, ticks and drains one deployment on `shards` databases in `dir`, which it removes after. */
async function benchDeployment(shards: number, dir: string, occurrence: number): Promise<DeploymentFigures> {
  const adminKey = `bench-${crypto.randomUUID()}`;
  const deployment = await createDeployment(dir, shards);
  const seedStarted = performance.now();
  const perShard = await seedCustomers(deployment, SHAPE, occurrence);
  const seeded = { perShard, seconds: (performance.now() - seedStarted) / 1000 };
  const scan = SCAN_BASELINE ? await scanBaseline(deployment, adminKey, occurrence) : null;

  const server: DevServer = await startDeployment(deployment, { REBOUND_ADMIN_KEY: adminKey });
  const customers = activeCustomers();
  const idle = await idleDecisions(server.url, adminKey, customers);
  await warmUpTick(server.url, adminKey, occurrence);
  const campaign = await runCampaign(server.url, adminKey, occurrence);
  const delivery = await duringDelivery(server.url, adminKey, customers, performance.now());
  await server.stop();
  const delivered = await deliveredSends(deployment);
  rmSync(dir, { recursive: true, force: true });
  return figuresOf(shards, scan, seeded, idle, campaign, delivery, delivered);
}

/**
 * The campaign three weeks before `occurrence` (outside the frequency cap's week) with no index serving
 * its audience, so it is read by scanning customers. Its sends are then removed, undelivered, so the
 * measured run's cap lookups and delivery count are its own; clearing the watermarks makes the
 * measured tick a first tick, so it does not also catch up three weeks of win-back steps.
 */
async function scanBaseline(
  deployment: LocalDeployment,
  adminKey: string,
  occurrence: number,
): Promise<CampaignTicks> {
  const campaign = loadedCampaign();
  const earlier = previousOccurrence(campaign.schedule, campaign.timezone, occurrence - 20 * DAY)!;
  const dropIndexes = Object.keys(TICK_INDEXES).map((name) => `DROP INDEX ${name};`);
  await queryEveryShard(deployment, dropIndexes.join(" "));
  const server = await startDeployment(deployment, { REBOUND_ADMIN_KEY: adminKey });
  const scan = await runCampaign(server.url, adminKey, earlier, false);
  await server.stop();
  const restore = ["DELETE FROM sends;", "DELETE FROM outbox;", "DELETE FROM tick_state;"];
  await queryEveryShard(
    deployment,
    [...restore, ...Object.values(TICK_INDEXES).map((sql) => `${sql};`)].join(" "),
  );
  console.log(
    `${deployment.shards} shard(s), scan baseline: tick ${round(scan.ms)} ms over ${scan.ticks} tick(s), ` +
      `audience ${scan.audience}, rows read ${scan.rows_read} (${round(scan.rows_read / Math.max(1, scan.audience))} per selected)`,
  );
  return scan;
}

/** The campaign of the ruleset the Worker is built with (npm run build writes it before every dev start). */
function loadedCampaign() {
  const ir = JSON.parse(
    readFileSync(new URL("../worker/generated/ruleset.json", import.meta.url), "utf8"),
  ) as RulesetIR;
  const campaign = loadRuleset(ir).campaigns.get(CAMPAIGN);
  if (!campaign) throw new Error(`the rules have no campaign ${CAMPAIGN}`);
  return campaign;
}

async function main(): Promise<void> {
  const campaign = loadedCampaign();
  // An occurrence in the past, so the consumer (on the wall clock) delivers at once.
  const occurrence = previousOccurrence(campaign.schedule, campaign.timezone, Date.now() - DAY)!;

  const stateDir = benchStateDir("campaign");
  const started = performance.now();
  try {
    const runs: DeploymentFigures[] = [];
    for (const shards of SHARD_COUNTS) {
      const figures = await benchDeployment(shards, join(stateDir, `shards-${shards}`), occurrence);
      for (const line of report(figures)) console.log(line);
      runs.push(figures);
    }
    const [baseline, ...others] = runs;
    if (!baseline) throw new Error("--shards names no deployment");
    const ratios = Object.fromEntries(
      others.map((run) => [
        `shards_${run.shards}_over_${baseline.shards}`,
        {
          tick_ms: ratio(run.tick_ms, baseline.tick_ms),
          rows_read_per_selected: ratio(run.rows_read_per_selected, baseline.rows_read_per_selected),
          sends_per_second: ratio(run.sends_per_second, baseline.sends_per_second),
          delivery_decision_p50_ms: ratio(run.delivery_decision_p50_ms, baseline.delivery_decision_p50_ms),
        },
      ]),
    );
    for (const [name, figures] of Object.entries(ratios)) {
      console.log(
        `${name}: tick time ${figures.tick_ms}x, rows read per selected ${figures.rows_read_per_selected}x, ` +
          `sends/s ${figures.sends_per_second}x (local D1 runs every database in one workerd process on ` +
          "this machine's cores: a lower bound of separate D1 databases' speed-up)",
      );
    }
    const wallSeconds = round((performance.now() - started) / 1000, 1);
    console.log(`wall time ${wallSeconds} s`);
    console.log(
      JSON.stringify({
        bench: "campaign",
        customers: CUSTOMERS,
        audience_percent: AUDIENCE_PERCENT,
        campaign: CAMPAIGN,
        occurrence: new Date(occurrence).toISOString(),
        transport: "HTTP to wrangler dev; every local D1 database in one workerd process",
        ...Object.fromEntries(runs.map((run) => [`shards_${run.shards}`, run])),
        ratios,
        bound_p50_ratio: DELIVERY_LATENCY_BOUND.p50Ratio,
        bound_p99_ratio: DELIVERY_LATENCY_BOUND.p99Ratio,
        target_rows_read_per_selected: 2,
        wall_seconds: wallSeconds,
      }),
    );
  } finally {
    await cleanUp();
  }
}

await main();
