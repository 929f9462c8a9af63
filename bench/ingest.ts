/**
 * Benchmark (not a test): event ingest over HTTP against the real Worker under `wrangler dev`, in
 * batches of 100, with D1's own count of rows written per event. Baselines measured in the same run:
 * GET /healthz round trips (the HTTP floor) and re-sending the same batches (pure duplicates).
 *
 * Usage: npm run bench:ingest [-- --events 20000 --concurrency 4]
 * The last line printed is a JSON object with every figure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type DemoEvent, generateDemoEvents } from "../worker/tools/demo-data";
import { applyLocalMigrations, freePort, startDevServer } from "../worker/tools/wrangler-dev";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "4" },
  },
});
const TARGET_EVENTS = Number(values.events);
const CONCURRENCY = Number(values.concurrency);
const BATCH = 100;

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

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "rebound-bench-"));
  const adminKey = `bench-${crypto.randomUUID()}`;
  await applyLocalMigrations({ persistTo: stateDir, quiet: true });
  const server = await startDevServer({
    port: await freePort(),
    persistTo: stateDir,
    secrets: { REBOUND_ADMIN_KEY: adminKey },
  });
  try {
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
    for (let i = 0; i < healthRounds; i++) await (await fetch(`${server.url}/healthz`)).text();
    const healthzPerSecond = healthRounds / ((performance.now() - healthStarted) / 1000);

    const sequential = await run(server.url, adminKey, batches.slice(0, half), 1);
    const concurrent = await run(server.url, adminKey, batches.slice(half), CONCURRENCY);
    const resent = await run(server.url, adminKey, batches.slice(0, half), 1);

    const figures = {
      benchmark: "ingest",
      transport: "HTTP to wrangler dev (local D1 in workerd)",
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
    };
    console.log(
      `ingest: ${figures.sequential_events_per_second} events/s (1 client), ` +
        `${figures.concurrent_events_per_second} events/s (${CONCURRENCY} clients), ` +
        `${figures.rows_written_per_new_event} D1 rows written per new event, ` +
        `${figures.rows_written_per_resent_event} per resent event`,
    );
    console.log(JSON.stringify(figures));
  } finally {
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
