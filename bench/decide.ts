/**
 * Benchmark (not a test): next-offer decisions over HTTP against the real Worker under `wrangler
 * dev`, on a local D1 holding 100,000 synthetic customers. In the same run and against the same
 * server, the floor: GET /v1/admin/floor/:id, one D1 primary-key read behind the standard
 * authentication (its own key lookup): 2 D1 round trips. A decision is also 2: its read, which
 * carries the key lookup (worker/auth/authenticate.ts), and its write. On local D1 a round trip
 * costs a few milliseconds of simulator work, so round trips decide the ratio.
 * Both are driven by autocannon with concurrent connections; every decision asks for a customer not
 * asked for before, so each one runs the whole path (read batch, rules, write batch).
 *
 * The two alternate in rounds (floor, decisions, floor, decisions, ...) so a change in machine load
 * during the run hits both alike; req/s is total requests over total time, p50/p99 the median of
 * the rounds' values. A last round asks again for customers already decided, as an app polling on
 * every page view does: those answers come from storage (the outstanding offer or the same
 * no-offer decision) and are reported apart (`repeat_*`), never mixed into the decision figures.
 *
 * Usage: npm run bench:decide [-- --customers 100000 --connections 8 --duration 5 --rounds 5 --state DIR]
 * `--state DIR` keeps the loaded database in DIR and reuses it on the next run (loading takes minutes).
 * The last line printed is a JSON object with every figure.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon, { type AutocannonResult } from "autocannon";
import { applyLocalMigrations, freePort, runWrangler, startDevServer } from "../worker/tools/wrangler-dev";

const { values } = parseArgs({
  options: {
    customers: { type: "string", default: "100000" },
    connections: { type: "string", default: "8" },
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "5" },
    state: { type: "string" },
  },
});
const CUSTOMERS = Number(values.customers);
const CONNECTIONS = Number(values.connections);
const DURATION_S = Number(values.duration);
const ROUNDS = Number(values.rounds);
const DAY = 86_400_000;
// D1 refuses statements over 100 KB: a few hundred rows each stays well under.
const ROWS_PER_INSERT = 200;
const ACTIVITY_PER_CUSTOMER = 3;

const REASONS = [
  "too_expensive",
  "hard_to_use",
  "technical_issues",
  "switched_to_competitor",
  "shutting_down",
  "unused",
];
const PLANS = ["starter", "pro", "business"];

/** A small deterministic generator, so every run loads the same customers. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
}

function customerId(n: number): string {
  return `bench-${n.toString().padStart(6, "0")}`;
}

/**
 * SQL that loads the synthetic customers (profiles as ingest would have computed them) with a few
 * recent activity events each, and one admin API key for the load generator.
 */
function loadSql(now: number, keyHash: string, keyPrefix: string): string {
  const random = generator(42);
  const lines: string[] = [
    `INSERT INTO api_keys (id, name, key_hash, key_prefix, scopes, created_at) VALUES ('key_bench', 'bench', '${keyHash}', '${keyPrefix}', '["admin"]', ${now});`,
  ];
  let customerRows: string[] = [];
  let eventRows: string[] = [];
  const flush = () => {
    if (customerRows.length > 0) {
      lines.push(
        `INSERT INTO customers (id, email, first_name, plan, mrr, currency, status, signed_up_at, canceled_at, churn_reason, last_active_at, ltv, order_count, order_total, referrals, open_tickets, attributes, first_seen_at, last_event_at) VALUES ${customerRows.join(",")};`,
      );
      customerRows = [];
    }
    if (eventRows.length > 0) {
      lines.push(
        `INSERT INTO events (id, customer_id, type, occurred_at, received_at, properties) VALUES ${eventRows.join(",")};`,
      );
      eventRows = [];
    }
  };
  for (let n = 0; n < CUSTOMERS; n++) {
    const id = customerId(n);
    const signedUp = now - Math.floor(30 + random() * 700) * DAY;
    const canceled = random() < 0.3;
    const canceledAt = canceled ? now - Math.floor(1 + random() * 60) * DAY : null;
    const reason = canceled ? REASONS[Math.floor(random() * REASONS.length)]! : null;
    const mrr = [900, 1900, 4900, 9900][Math.floor(random() * 4)]!;
    const ltv = Math.floor(random() * 150_000);
    const lastActive = now - Math.floor(random() * 20) * DAY;
    customerRows.push(
      `('${id}','${id}@example.com','Customer${n}','${PLANS[n % 3]}',${mrr},'USD','${canceled ? "canceled" : "active"}',${signedUp},${canceledAt ?? "NULL"},${reason ? `'${reason}'` : "NULL"},${lastActive},${ltv},0,0,${random() < 0.1 ? 1 : 0},0,'{}',${signedUp},${lastActive})`,
    );
    for (let k = 0; k < ACTIVITY_PER_CUSTOMER; k++) {
      const occurred = lastActive - k * 3 * DAY;
      eventRows.push(`('e-${id}-${k}','${id}','activity',${occurred},${occurred},'{}')`);
    }
    if (customerRows.length >= ROWS_PER_INSERT || eventRows.length >= ROWS_PER_INSERT * 2) flush();
  }
  flush();
  return `${lines.join("\n")}\n`;
}

interface Figures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
}

/** Rounds of one route combined: throughput over all rounds, the median round's latencies. */
function combined(rounds: readonly AutocannonResult[]): Figures {
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  // A round in which nothing completed has no latencies (autocannon reports 0): leave it out of the
  // medians; it still counts in throughput, and its timeouts in `errors`.
  const answered = rounds.filter((round) => round.requests.total > 0);
  const total = rounds.reduce((sum, round) => sum + round.requests.total, 0);
  const seconds = rounds.reduce((sum, round) => sum + round.duration, 0);
  return {
    requestsPerSecond: total / seconds,
    p50: median(answered.map((round) => round.latency.p50)),
    p99: median(answered.map((round) => round.latency.p99)),
    total,
    non2xx: rounds.reduce((sum, round) => sum + round.non2xx, 0),
    errors: rounds.reduce((sum, round) => sum + round.errors + round.timeouts, 0),
  };
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length - 1; i += 2) {
      if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    }
    return undefined;
  }
  if (headers && typeof headers === "object") {
    for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return String(value);
  }
  return undefined;
}

async function main(): Promise<void> {
  const keep = values.state !== undefined;
  const stateDir = values.state ?? mkdtempSync(join(tmpdir(), "rebound-bench-decide-"));
  const marker = join(stateDir, `bench-decide-${CUSTOMERS}.key`);
  try {
    let key: string;
    let loadSeconds = 0;
    if (keep && existsSync(marker)) {
      key = readFileSync(marker, "utf8").trim();
      // Migrations added since the state was loaded (applying none is quick).
      await applyLocalMigrations({ persistTo: stateDir, quiet: true });
      // The last run's decisions would be answered from storage (an outstanding offer, a repeated
      // no-offer answer), which is cheaper than deciding: start every run with none.
      await runWrangler(
        [
          "d1",
          "execute",
          "rebound",
          "--local",
          "--persist-to",
          stateDir,
          "--command",
          "DELETE FROM redemptions; DELETE FROM decisions;",
        ],
        { quiet: true },
      );
      console.log(`decide: reusing ${CUSTOMERS} customers in ${stateDir} (decisions cleared)`);
    } else {
      mkdirSync(stateDir, { recursive: true });
      key = `rbk_bench_${randomBytes(24).toString("base64url")}`;
      await applyLocalMigrations({ persistTo: stateDir, quiet: true });
      const loadStarted = performance.now();
      const sqlFile = join(stateDir, "customers.sql");
      const hash = createHash("sha256").update(key).digest("hex");
      writeFileSync(sqlFile, loadSql(Date.now(), hash, key.slice(0, 10)));
      await runWrangler(
        ["d1", "execute", "rebound", "--local", "--persist-to", stateDir, "--file", sqlFile],
        {
          quiet: true,
        },
      );
      rmSync(sqlFile);
      writeFileSync(marker, key, { mode: 0o600 });
      loadSeconds = (performance.now() - loadStarted) / 1000;
      console.log(
        `decide: loaded ${CUSTOMERS} customers (${CUSTOMERS * ACTIVITY_PER_CUSTOMER} events) in ${loadSeconds.toFixed(1)}s`,
      );
    }

    // The bootstrap admin key is never sent: both routes authenticate through the api_keys lookup.
    const server = await startDevServer({
      port: await freePort(),
      persistTo: stateDir,
      secrets: { REBOUND_ADMIN_KEY: `unused-${randomBytes(16).toString("hex")}` },
    });
    try {
      const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
      let nextFloor = 0;
      const floorRun = (duration: number) =>
        autocannon({
          url: server.url,
          connections: CONNECTIONS,
          duration,
          headers,
          requests: [
            {
              method: "GET",
              setupRequest: (request) => ({
                ...request,
                path: `/v1/admin/floor/${customerId(nextFloor++ % CUSTOMERS)}`,
              }),
            },
          ],
        });
      // Every decision is for a customer never asked before (a reused state starts with no
      // decisions): no outstanding offer or earlier answer to return cheaply.
      let nextCustomer = 0;
      const rowsRead: number[] = [];
      let reused = 0;
      const decideRun = (duration: number, record: boolean, pick = () => nextCustomer++ % CUSTOMERS) =>
        autocannon({
          url: server.url,
          connections: CONNECTIONS,
          duration,
          headers,
          requests: [
            {
              method: "POST",
              path: "/v1/decisions",
              setupRequest: (request) => {
                const n = pick();
                const inCancelFlow = n % 2 === 0;
                return {
                  ...request,
                  body: JSON.stringify({
                    customer_id: customerId(n),
                    context: inCancelFlow ? "cancel_flow" : "winback",
                    ...(inCancelFlow ? { reason: REASONS[n % REASONS.length] } : {}),
                  }),
                };
              },
              onResponse: (status, body, _context, responseHeaders) => {
                const rows = headerValue(responseHeaders, "x-rebound-rows-read");
                if (!record || status !== 200) return;
                if (rows !== undefined) rowsRead.push(Number(rows));
                if (body.includes('"reused":true')) reused++;
              },
            },
          ],
        });

      // Warm both paths (isolate start, rules compiled, SQLite pages cached) before measuring.
      // Long enough for the first writes after a bulk load (SQLite checkpointing its WAL) to pass.
      await floorRun(8);
      await decideRun(8, false);
      const floorRounds: AutocannonResult[] = [];
      const decideRounds: AutocannonResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        floorRounds.push(await floorRun(DURATION_S));
        decideRounds.push(await decideRun(DURATION_S, true));
      }
      const floor = combined(floorRounds);
      const decide = combined(decideRounds);

      // The app asking again (a banner on every page view): the same asks for customers already
      // decided, each answered from storage (the outstanding offer, or the same no-offer decision).
      const decided = Math.min(nextCustomer, CUSTOMERS);
      let nextRepeat = 0;
      const reusedBefore = reused;
      const rowsBefore = rowsRead.length;
      const repeated = combined([await decideRun(DURATION_S, true, () => nextRepeat++ % decided)]);
      const repeatAnswers = rowsRead.length - rowsBefore;
      const repeatReused = reused - reusedBefore;
      rowsRead.length = rowsBefore;
      reused = reusedBefore;

      // One repeated ask: the outstanding offer is returned (read batch only, no write).
      const repeat = await fetch(`${server.url}/v1/decisions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ customer_id: customerId(0), context: "cancel_flow", reason: REASONS[0] }),
      });
      const repeatRows = Number(repeat.headers.get("x-rebound-rows-read") ?? Number.NaN);

      const sortedRows = [...rowsRead].sort((a, b) => a - b);
      const meanRows = rowsRead.reduce((sum, rows) => sum + rows, 0) / Math.max(1, rowsRead.length);
      const result = {
        benchmark: "decide",
        transport: "HTTP to wrangler dev (local D1 in workerd), autocannon",
        customers: CUSTOMERS,
        events: CUSTOMERS * ACTIVITY_PER_CUSTOMER,
        connections: CONNECTIONS,
        rounds: ROUNDS,
        seconds_per_round: DURATION_S,
        floor_requests_per_second: round(floor.requestsPerSecond),
        floor_p50_ms: floor.p50,
        floor_p99_ms: floor.p99,
        floor_non2xx: floor.non2xx,
        floor_errors: floor.errors,
        decide_requests_per_second: round(decide.requestsPerSecond),
        decide_p50_ms: decide.p50,
        decide_p99_ms: decide.p99,
        decide_non2xx: decide.non2xx,
        decide_errors: decide.errors,
        decisions_measured: rowsRead.length,
        decisions_reused: reused,
        repeat_requests_per_second: round(repeated.requestsPerSecond),
        repeat_p50_ms: repeated.p50,
        repeat_p99_ms: repeated.p99,
        repeat_answers: repeatAnswers,
        repeat_answers_reused: repeatReused,
        repeat_ratio_vs_floor: round(repeated.requestsPerSecond / floor.requestsPerSecond),
        throughput_ratio_vs_floor: round(decide.requestsPerSecond / floor.requestsPerSecond),
        target_ratio: 0.8,
        rows_read_per_decision_mean: round(meanRows),
        rows_read_per_decision_max: sortedRows[sortedRows.length - 1] ?? null,
        rows_read_repeat_ask: repeatRows,
        load_seconds: round(loadSeconds),
      };
      console.log("");
      console.log("route                     req/s      p50 ms   p99 ms");
      console.log(
        `floor (key + PK read)  ${pad(result.floor_requests_per_second)} ${pad(floor.p50, 8)} ${pad(floor.p99, 8)}`,
      );
      console.log(
        `POST /v1/decisions     ${pad(result.decide_requests_per_second)} ${pad(decide.p50, 8)} ${pad(decide.p99, 8)}`,
      );
      console.log(
        `  asked again            ${pad(result.repeat_requests_per_second)} ${pad(repeated.p50, 8)} ${pad(repeated.p99, 8)}   (${repeatReused} of ${repeatAnswers} answered from storage)`,
      );
      console.log(
        `ratio ${result.throughput_ratio_vs_floor}x the floor (target ≥ 0.8x); rows read per decision: mean ${result.rows_read_per_decision_mean}, max ${result.rows_read_per_decision_max}; repeat ask ${repeatRows}`,
      );
      console.log(JSON.stringify(result));
    } finally {
      await server.stop();
    }
  } finally {
    if (!keep) rmSync(stateDir, { recursive: true, force: true });
  }
}

function pad(value: number, width = 9): string {
  return String(value).padStart(width);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
