/**
 * Benchmark (not a test): event ingest over HTTP against the real Worker under `wrangler dev`.
 *
 * 1. Throughput: demo events in batches of 100, sequential and concurrent, with D1's own count of
 *    rows read and written per event; baselines in the same run: GET /healthz round trips (the HTTP
 *    floor) and re-sending the same batches (pure duplicates).
 * 2. Cost against history: one customer's history grown through the API to 100, 1,000, 10,000 and
 *    100,000 events; at each size one more `activity` and one more `order.completed`, with the rows
 *    D1 reports. Baseline in the same run: the full recomputation ingest ran before the fold
 *    (test/worker/profile-recompute.ts) over the same customers, through `wrangler d1 execute`.
 * 3. Storage: customers sending 10 events a day for a simulated year, then ticks until the archiver
 *    has moved everything past the rules' retention to R2; D1 bytes per customer from SQLite's own
 *    page accounting (used pages × page size), against the same database before the year.
 * 4. Concurrent writers, one D1 database against four shards (bench/ingest-shards.ts): the same
 *    autocannon load of single-customer batches at each, events/s, p50/p99, rows written per event
 *    and the ratios. `--part shards` runs only this part.
 *
 * Usage: npm run bench:ingest [-- --events 20000 --concurrency 4 --history 100000 --year-customers 20
 *   --part all|shards --shards 1,4 --writers 16 --writer-rounds 3 --writer-seconds 10 --writer-events 10]
 * The last line printed is a JSON object with every figure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PROFILE_COLUMNS, recomputeProfilesSql } from "../test/worker/profile-recompute";
import { type DemoEvent, generateDemoEvents } from "../worker/tools/demo-data";
import { applyLocalMigrations, freePort, startDevServer, stopDevServers } from "../worker/tools/wrangler-dev";
import { type ShardedIngestFigures, shardedIngest } from "./ingest-shards";
import { withDatabase } from "./local-state";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "4" },
    history: { type: "string", default: "100000" },
    "year-customers": { type: "string", default: "20" },
    part: { type: "string", default: "all" },
    shards: { type: "string", default: "1,4" },
    writers: { type: "string", default: "16" },
    "writer-rounds": { type: "string", default: "3" },
    "writer-seconds": { type: "string", default: "10" },
    "writer-events": { type: "string", default: "10" },
    "writer-customers": { type: "string", default: "10000" },
  },
});
if (values.part !== "all" && values.part !== "shards") throw new Error("--part is all or shards");
/** Only part 4 (concurrent writers on 1 and 4 shards). */
const SHARDS_ONLY = values.part === "shards";
const TARGET_EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const BATCH = 100;
const HISTORY_SIZES = [100, 1_000, 10_000, 100_000].filter((size) => size <= Number(values.history));
const YEAR_CUSTOMERS = Number(values["year-customers"]);
const DAY_MS = 86_400_000;

interface BatchStats {
  ms: number;
  accepted: number;
  duplicates: number;
  rowsWritten: number;
  rowsRead: number;
}

interface IngestResponse {
  accepted: number;
  duplicates: number;
  meta: { rows_read: number; rows_written: number };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function postBatch(url: string, key: string, batch: readonly DemoEvent[]): Promise<BatchStats> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ events: batch }),
  });
  const body = (await response.json()) as IngestResponse;
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`ingest ${response.status}: ${JSON.stringify(body)}`);
  return {
    ms,
    accepted: body.accepted,
    duplicates: body.duplicates,
    rowsWritten: body.meta.rows_written,
    rowsRead: body.meta.rows_read,
  };
}

/** Sends all batches with `concurrency` clients; returns per-batch stats and the wall time. */
async function run(url: string, key: string, batches: readonly DemoEvent[][], concurrency: number) {
  const stats: BatchStats[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        stats.push(await postBatch(url, key, batch));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const events = batches.reduce((sum, batch) => sum + batch.length, 0);
  const latencies = stats.map((s) => s.ms).sort((a, b) => a - b);
  return {
    events,
    seconds,
    eventsPerSecond: events / seconds,
    accepted: stats.reduce((sum, s) => sum + s.accepted, 0),
    duplicates: stats.reduce((sum, s) => sum + s.duplicates, 0),
    rowsWrittenPerEvent: stats.reduce((sum, s) => sum + s.rowsWritten, 0) / events,
    rowsReadPerEvent: stats.reduce((sum, s) => sum + s.rowsRead, 0) / events,
    batchP50Ms: percentile(latencies, 50),
    batchP95Ms: percentile(latencies, 95),
  };
}

async function post(url: string, key: string, path: string, body: unknown): Promise<IngestResponse> {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as IngestResponse;
  if (response.status !== 200) throw new Error(`${path} ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

interface HistoryPoint {
  history: number;
  activity: { rows_read: number; rows_written: number };
  order: { rows_read: number; rows_written: number };
  recomputation_rows_read?: number;
}

/** Grows one customer per size to that many events, then sends one more of each kind. */
async function historyCost(url: string, key: string): Promise<HistoryPoint[]> {
  const points: HistoryPoint[] = [];
  for (const size of HISTORY_SIZES) {
    const customer = `history-${size}`;
    for (let i = 0; i < size; i += 500) {
      const events = Array.from({ length: Math.min(500, size - i) }, (_, j) => ({
        id: `${customer}-${i + j}`,
        type: "activity",
        customer_id: customer,
        // Spread over the retention so the archiver leaves them in place.
        occurred_at: new Date(
          Date.now() - 60 * DAY_MS + Math.floor(((i + j) / size) * 50 * DAY_MS),
        ).toISOString(),
      }));
      await post(url, key, "/v1/events", { events });
    }
    const at = new Date(Date.now() - DAY_MS).toISOString();
    const activity = await post(url, key, "/v1/events", {
      id: `${customer}-next`,
      type: "activity",
      customer_id: customer,
      occurred_at: at,
    });
    const order = await post(url, key, "/v1/events", {
      id: `${customer}-order`,
      type: "order.completed",
      customer_id: customer,
      occurred_at: at,
      properties: { amount: 4900, currency: "USD" },
    });
    points.push({ history: size, activity: activity.meta, order: order.meta });
    console.log(
      `history ${size}: one more activity read ${activity.meta.rows_read} rows, one more order ${order.meta.rows_read}`,
    );
  }
  return points;
}

/** Rows the pre-fold full recomputation reads for each history customer (the baseline). */
async function recomputationCost(stateDir: string, points: HistoryPoint[]): Promise<void> {
  await withDatabase(stateDir, async (db) => {
    await db
      .prepare(
        `CREATE TABLE bench_recomputed (id TEXT PRIMARY KEY, ${PROFILE_COLUMNS.filter((c) => c !== "id").join(", ")})`,
      )
      .run();
    for (const point of points) {
      const result = await db
        .prepare(recomputeProfilesSql("bench_recomputed"))
        .bind(JSON.stringify([`history-${point.history}`]))
        .run();
      point.recomputation_rows_read = result.meta.rows_read;
    }
  });
}

/** The database's size as D1 reports it (`meta.size_after`: what counts against its 10 GB). */
function databaseBytes(stateDir: string): Promise<number> {
  return withDatabase(stateDir, async (db) => (await db.prepare("SELECT 1").run()).meta.size_after);
}

/**
 * A simulated year of 10 events per customer-day, sent day by day with a tick at the end of every
 * simulated week (as the cron would archive along the way, so freed pages are reused), then ticks
 * at the wall clock until the archive has caught up.
 */
async function simulatedYear(
  url: string,
  key: string,
): Promise<{ events: number; ticks: number; archived: number }> {
  const end = Date.now() - DAY_MS;
  const types = [
    "activity",
    "activity",
    "activity",
    "activity",
    "activity",
    "activity",
    "activity",
    "x.page_view",
    "x.page_view",
    "order.completed",
  ];
  let events = 0;
  let ticks = 0;
  let archived = 0;
  const send = async (batch: unknown[]) => {
    await post(url, key, "/v1/events", { events: batch });
    events += batch.length;
  };
  for (let c = 0; c < YEAR_CUSTOMERS; c++) {
    await send([
      {
        id: `year-${c}-start`,
        type: "subscription.started",
        customer_id: `year-${c}`,
        occurred_at: new Date(end - 365 * DAY_MS).toISOString(),
        properties: { plan: "pro", mrr: 4900, currency: "USD" },
      },
    ]);
  }
  for (let day = 364; day >= 0; day--) {
    const batch: unknown[] = [];
    for (let c = 0; c < YEAR_CUSTOMERS; c++) {
      types.forEach((type, n) => {
        batch.push({
          id: `year-${c}-${day}-${n}`,
          type,
          customer_id: `year-${c}`,
          occurred_at: new Date(end - day * DAY_MS + n * 3_600_000).toISOString(),
          ...(type === "order.completed" ? { properties: { amount: 1200, currency: "USD" } } : {}),
        });
      });
    }
    for (let i = 0; i < batch.length; i += 500) await send(batch.slice(i, i + 500));
    if (day % 7 === 0) await tick(new Date(end - day * DAY_MS + 23 * 3_600_000).toISOString());
  }
  for (;;) {
    const report = await tick(undefined);
    if (!report || (report.events === 0 && report.day_in_progress === null)) break;
  }
  return { events, ticks, archived };

  async function tick(at: string | undefined) {
    const { tick } = (await post(url, key, "/v1/admin/tick", at ? { at } : {})) as unknown as {
      tick: { archive: { events: number; day_in_progress: string | null } | null };
    };
    ticks++;
    archived += tick.archive?.events ?? 0;
    return tick.archive;
  }
}

/** Parts 1-3, on one database: their figures, and the lines they print. */
async function singleDatabaseParts(
  stateDir: string,
  yearDir: string,
  adminKey: string,
): Promise<Record<string, unknown>> {
  const start = async (persistTo: string) => {
    await applyLocalMigrations({ persistTo, quiet: true });
    return startDevServer({ port: await freePort(), persistTo, secrets: { REBOUND_ADMIN_KEY: adminKey } });
  };
  let server: Awaited<ReturnType<typeof startDevServer>> | null = null;
  const stop = async () => {
    await server?.stop();
    server = null;
  };
  try {
    server = await start(stateDir);
    const url = server.url;
    // Roughly 32 events per demo customer: enough customers for the target, arriving interleaved.
    const customers = Math.max(10, Math.ceil(TARGET_EVENTS / 32));
    const all = generateDemoEvents({ anchor: Date.UTC(2026, 10, 1), customers, seed: 7 });
    const events = shuffled(all, 11).slice(0, TARGET_EVENTS);
    const batches: DemoEvent[][] = [];
    for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
    const half = Math.floor(batches.length / 2);

    // Baseline: the HTTP round trip with no work behind it.
    const healthRounds = 300;
    const healthStarted = performance.now();
    for (let i = 0; i < healthRounds; i++) await (await fetch(`${url}/healthz`)).text();
    const healthzPerSecond = healthRounds / ((performance.now() - healthStarted) / 1000);

    const sequential = await run(url, adminKey, batches.slice(0, half), 1);
    const concurrent = await run(url, adminKey, batches.slice(half), CONCURRENCY);
    const resent = await run(url, adminKey, batches.slice(0, half), 1);
    const history = await historyCost(url, adminKey);
    await stop();
    await recomputationCost(stateDir, history);

    await applyLocalMigrations({ persistTo: yearDir, quiet: true });
    const emptyBytes = await databaseBytes(yearDir);
    server = await start(yearDir);
    const year = await simulatedYear(server.url, adminKey);
    await stop();
    const yearBytes = await databaseBytes(yearDir);
    const bytesPerCustomer = (yearBytes - emptyBytes) / YEAR_CUSTOMERS;

    const largest = history.at(-1);
    const smallest = history[0];
    const figures = {
      batch_size: BATCH,
      events: events.length,
      customers,
      healthz_requests_per_second: round(healthzPerSecond),
      sequential_events_per_second: round(sequential.eventsPerSecond),
      sequential_batch_p50_ms: round(sequential.batchP50Ms),
      sequential_batch_p95_ms: round(sequential.batchP95Ms),
      concurrent_clients: CONCURRENCY,
      concurrent_events_per_second: round(concurrent.eventsPerSecond),
      concurrent_batch_p95_ms: round(concurrent.batchP95Ms),
      rows_written_per_new_event: round(
        (sequential.rowsWrittenPerEvent * sequential.events +
          concurrent.rowsWrittenPerEvent * concurrent.events) /
          (sequential.events + concurrent.events),
      ),
      rows_read_per_new_event: round(
        (sequential.rowsReadPerEvent * sequential.events + concurrent.rowsReadPerEvent * concurrent.events) /
          (sequential.events + concurrent.events),
      ),
      resend_events_per_second: round(resent.eventsPerSecond),
      resend_duplicates: resent.duplicates,
      rows_written_per_resent_event: round(resent.rowsWrittenPerEvent),
      // Each batch costs this many bare HTTP round trips' worth of time.
      batch_cost_in_healthz_round_trips: round((sequential.batchP50Ms * healthzPerSecond) / 1000),
      resend_speed_vs_new: round(resent.eventsPerSecond / sequential.eventsPerSecond),
      history_cost: history,
      // Flat means 1: rows read for one more event at the largest history over the smallest.
      rows_read_largest_vs_smallest_history:
        largest && smallest ? round(largest.activity.rows_read / smallest.activity.rows_read) : null,
      recomputation_vs_fold_at_largest_history:
        largest?.recomputation_rows_read !== undefined
          ? round(largest.recomputation_rows_read / largest.activity.rows_read)
          : null,
      year_customers: YEAR_CUSTOMERS,
      year_events: year.events,
      year_archived_events: year.archived,
      year_ticks: year.ticks,
      d1_bytes_per_customer_after_a_year: Math.round(bytesPerCustomer),
      customers_per_10_gb_database: Math.floor(10e9 / bytesPerCustomer),
    };
    console.log(
      `ingest: ${figures.sequential_events_per_second} events/s (1 client), ` +
        `${figures.concurrent_events_per_second} events/s (${CONCURRENCY} clients), ` +
        `${figures.rows_written_per_new_event} D1 rows written per new event, ` +
        `${figures.rows_written_per_resent_event} per resent event`,
    );
    for (const point of history) {
      console.log(
        `history ${point.history}: rows read for one more activity ${point.activity.rows_read} ` +
          `(full recomputation: ${point.recomputation_rows_read}), for one more order ${point.order.rows_read}`,
      );
    }
    console.log(
      `a year of 10 events/day: ${figures.d1_bytes_per_customer_after_a_year} D1 bytes per customer ` +
        `(${year.archived} of ${year.events} events archived to R2 in ${year.ticks} ticks); ` +
        `one 10 GB database holds ${figures.customers_per_10_gb_database} such customers`,
    );
    return figures;
  } finally {
    await stop();
  }
}

/** Part 4: concurrent writers on each deployment of `--shards`, and the ratios to the first. */
async function concurrentWriters(stateDir: string, adminKey: string): Promise<Record<string, unknown>> {
  const runs = await shardedIngest({
    shardCounts: values.shards.split(",").map(Number),
    connections: Number(values.writers),
    rounds: Number(values["writer-rounds"]),
    roundSeconds: Number(values["writer-seconds"]),
    eventsPerRequest: Number(values["writer-events"]),
    customers: Number(values["writer-customers"]),
    stateDir,
    adminKey,
  });
  const [baseline, ...others] = runs;
  if (!baseline) throw new Error("--shards names no deployment");
  for (const run of runs) console.log(writerLine(run));
  const ratios = Object.fromEntries(
    others.map((run) => [
      `shards_${run.shards}_over_${baseline.shards}`,
      {
        events_per_second: round(run.events_per_second / baseline.events_per_second),
        p50_ms: round(run.p50_ms / baseline.p50_ms),
        p99_ms: round(run.p99_ms / baseline.p99_ms),
        rows_written_per_event: round(run.rows_written_per_event / baseline.rows_written_per_event),
      },
    ]),
  );
  for (const [name, ratio] of Object.entries(ratios)) {
    console.log(
      `writers ${name}: ${ratio.events_per_second}x events/s, p50 ${ratio.p50_ms}x, p99 ${ratio.p99_ms}x ` +
        "(local D1 runs every database in one workerd process on this machine's cores: a lower bound of " +
        "separate D1 databases' speed-up)",
    );
  }
  return {
    writers: Number(values.writers),
    writer_events_per_request: Number(values["writer-events"]),
    writer_customers: Number(values["writer-customers"]),
    writer_rounds: Number(values["writer-rounds"]),
    writer_round_seconds: Number(values["writer-seconds"]),
    writer_requests: "one customer per request (one shard per request)",
    ...Object.fromEntries(runs.map((run) => [`shards_${run.shards}`, run])),
    ratios,
  };
}

function writerLine(run: ShardedIngestFigures): string {
  return (
    `writers, ${run.shards} shard${run.shards === 1 ? "" : "s"}: ${run.events_per_second} events/s ` +
    `(${run.events} events in ${run.requests} requests), p50 ${run.p50_ms} ms, p99 ${run.p99_ms} ms, ` +
    `${run.rows_written_per_event} rows written and ${run.rows_read_per_event} read per event, ` +
    `${run.non_2xx} non-2xx, ${run.errors} errors; events per shard ${run.events_per_shard.join(" + ")}, ` +
    `${run.misplaced_customers} customers on a shard not theirs`
  );
}

async function main(): Promise<void> {
  const adminKey = `bench-${crypto.randomUUID()}`;
  const dirs = ["rebound-bench-", "rebound-bench-year-", "rebound-bench-writers-"].map((prefix) =>
    mkdtempSync(join(tmpdir(), prefix)),
  );
  const [stateDir, yearDir, writersDir] = dirs as [string, string, string];
  const removeDirs = () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  // wrangler dev runs in a process group of its own: a Ctrl-C must stop it here. stopDevServers sends
  // the signal at once, before its first await.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void stopDevServers();
      removeDirs();
      process.exit(130);
    });
  }
  try {
    const single = SHARDS_ONLY ? {} : await singleDatabaseParts(stateDir, yearDir, adminKey);
    const writers = await concurrentWriters(writersDir, adminKey);
    console.log(
      JSON.stringify({
        benchmark: "ingest",
        transport: "HTTP to wrangler dev (local D1 in workerd; every database in one workerd process)",
        ...single,
        concurrent_writers: writers,
      }),
    );
  } finally {
    await stopDevServers();
    removeDirs();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
