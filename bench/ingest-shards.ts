/**
 * Part of `npm run bench:ingest`: concurrent writers against one D1 database and against four shards,
 * in the same run. Both deployments run side by side under `wrangler dev` (bench/local-deployment.ts),
 * each in a state directory of its own, and autocannon drives the same load at each in alternating
 * rounds (1, 4, 1, 4, …), so a change in the machine's load hits both alike.
 *
 * The load: `connections` concurrent connections, each POSTing /v1/events batches of
 * `eventsPerRequest` new `activity` events for ONE customer drawn at random from `customers` (so every
 * request touches one shard, and concurrent requests rarely race on a profile). Figures per
 * deployment: events/s (events accepted over the rounds' time), p50 and p99 request latency (median
 * of the rounds), D1 rows written and read per event (from each answer's `meta`), and after the
 * servers stop, a check that every customer's events are on the shard `placedShard` gives it.
 *
 * Local D1 under miniflare runs every database in one workerd process on this machine's cores, so the
 * four-shard speed-up measured here is a lower bound of what four D1 databases (each its own
 * single-threaded SQLite on its own machine) give.
 */
import { join } from "node:path";
import autocannon, { type AutocannonResult } from "autocannon";
import { placedShard } from "../worker/db/placement";
import type { DevServer } from "../worker/tools/wrangler-dev";
import { createDeployment, type LocalDeployment, queryEveryShard, startDeployment } from "./local-deployment";

export interface ShardedIngestOptions {
  /** Shard counts of the deployments compared; the first is the baseline of the ratios. */
  shardCounts: readonly number[];
  connections: number;
  /** Seconds per round; each deployment gets `rounds` of them. */
  roundSeconds: number;
  rounds: number;
  eventsPerRequest: number;
  /** Customers the requests draw from. */
  customers: number;
  /** Where the deployments keep their state (a folder the caller removes). */
  stateDir: string;
  adminKey: string;
}

/** What one deployment measured. */
export interface ShardedIngestFigures {
  shards: number;
  events_per_second: number;
  requests: number;
  events: number;
  p50_ms: number;
  p99_ms: number;
  rows_written_per_event: number;
  rows_read_per_event: number;
  non_2xx: number;
  errors: number;
  /** Customers whose events were found on a shard `placedShard` does not give them (must be 0). */
  misplaced_customers: number;
  /** Events stored per shard after the rounds. */
  events_per_shard: number[];
}

/** What the answers of a deployment's requests added up to, across rounds. */
interface Tally {
  accepted: number;
  rowsWritten: number;
  rowsRead: number;
  rounds: AutocannonResult[];
}

interface IngestAnswer {
  accepted: number;
  meta: { rows_read: number; rows_written: number };
}

/** Runs the comparison and answers each deployment's figures, in `shardCounts` order. */
export async function shardedIngest(options: ShardedIngestOptions): Promise<ShardedIngestFigures[]> {
  const deployments: LocalDeployment[] = [];
  for (const shards of options.shardCounts) {
    deployments.push(await createDeployment(join(options.stateDir, `ingest-shards-${shards}`), shards));
  }
  const servers: DevServer[] = [];
  try {
    for (const deployment of deployments) {
      servers.push(await startDeployment(deployment, { REBOUND_ADMIN_KEY: options.adminKey }));
    }
    const tallies = deployments.map((): Tally => ({ accepted: 0, rowsWritten: 0, rowsRead: 0, rounds: [] }));
    let sequence = 0;
    const load = (server: DevServer, tally: Tally | null, seconds: number) =>
      autocannon({
        url: server.url,
        connections: options.connections,
        duration: seconds,
        headers: { authorization: `Bearer ${options.adminKey}`, "content-type": "application/json" },
        requests: [
          {
            method: "POST",
            path: "/v1/events",
            setupRequest: (request) => {
              sequence += 1;
              return { ...request, body: eventBatch(options, sequence) };
            },
            onResponse: (status, body) => {
              if (tally === null || status !== 200) return;
              const answer = JSON.parse(body) as IngestAnswer;
              tally.accepted += answer.accepted;
              tally.rowsWritten += answer.meta.rows_written;
              tally.rowsRead += answer.meta.rows_read;
            },
          },
        ],
      });
    // Warm-up: a short round each, not counted.
    for (const server of servers) await load(server, null, 3);
    for (let round = 0; round < options.rounds; round += 1) {
      for (const [index, server] of servers.entries()) {
        const tally = tallies[index]!;
        tally.rounds.push(await load(server, tally, options.roundSeconds));
      }
    }
    for (const server of servers) await server.stop();
    const figures: ShardedIngestFigures[] = [];
    for (const [index, deployment] of deployments.entries()) {
      figures.push({ ...figuresOf(deployment.shards, tallies[index]!), ...(await placement(deployment)) });
    }
    return figures;
  } finally {
    for (const server of servers) await server.stop();
  }
}

/** One request's body: `eventsPerRequest` new activity events of one random customer. */
function eventBatch(options: ShardedIngestOptions, sequence: number): string {
  const customer = `writer-${Math.floor(Math.random() * options.customers)}`;
  const at = Date.now() - 60_000;
  const events = Array.from({ length: options.eventsPerRequest }, (_, n) => ({
    id: `w-${process.pid}-${sequence}-${n}`,
    type: "activity",
    customer_id: customer,
    occurred_at: new Date(at + n).toISOString(),
  }));
  return JSON.stringify({ events });
}

function figuresOf(
  shards: number,
  tally: Tally,
): Omit<ShardedIngestFigures, "misplaced_customers" | "events_per_shard"> {
  const answered = tally.rounds.filter((round) => round.requests.total > 0);
  const requests = tally.rounds.reduce((sum, round) => sum + round.requests.total, 0);
  const seconds = tally.rounds.reduce((sum, round) => sum + round.duration, 0);
  const perEvent = (rows: number) => (tally.accepted === 0 ? 0 : round2(rows / tally.accepted));
  return {
    shards,
    events_per_second: round2(tally.accepted / seconds),
    requests,
    events: tally.accepted,
    p50_ms: median(answered.map((round) => round.latency.p50)),
    p99_ms: median(answered.map((round) => round.latency.p99)),
    rows_written_per_event: perEvent(tally.rowsWritten),
    rows_read_per_event: perEvent(tally.rowsRead),
    non_2xx: tally.rounds.reduce((sum, round) => sum + round.non2xx, 0),
    errors: tally.rounds.reduce((sum, round) => sum + round.errors + round.timeouts, 0),
  };
}

/** Events per shard, and customers found on a shard that is not theirs (the server must be stopped). */
async function placement(
  deployment: LocalDeployment,
): Promise<Pick<ShardedIngestFigures, "misplaced_customers" | "events_per_shard">> {
  const shards = await queryEveryShard<{ customer_id: string; events: number }>(
    deployment,
    "SELECT customer_id, count(*) AS events FROM events WHERE customer_id LIKE 'writer-%' GROUP BY customer_id",
  );
  let misplaced = 0;
  const eventsPerShard = shards.map((rows, index) => {
    for (const row of rows) if (placedShard(row.customer_id, deployment.shards) !== index) misplaced += 1;
    return rows.reduce((sum, row) => sum + row.events, 0);
  });
  return { misplaced_customers: misplaced, events_per_shard: eventsPerShard };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
