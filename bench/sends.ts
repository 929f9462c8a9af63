/**
 * Benchmark (not a test): sends per second through the real queue consumer. The built Worker bundle
 * (`wrangler deploy --dry-run`) runs in Miniflare with its D1 database and the rebound-sends queue
 * configured as in wrangler.toml (batches of 25); N queued sends for the outbox channel are
 * published and timed until every one is `sent`: claim, render, deliver, record.
 *
 * Baseline, measured in the same run on the same queue settings: a bare consumer that only writes
 * one D1 row per message and acks (the floor any at-least-once consumer pays). The pipeline runs
 * about two D1 statements per send (outbox insert, mark sent) plus one claim per batch, so locally,
 * where miniflare's D1 serialises statements, expect a ratio a little under 1/2.
 *
 * Usage: npm run bench:sends [-- --sends 3000]
 * The last line printed is a JSON object with every figure.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { REPO_ROOT, runWrangler } from "../worker/tools/wrangler-dev";

const { values } = parseArgs({ options: { sends: { type: "string", default: "3000" } } });
const SENDS = Number(values.sends);
const QUEUE = { maxBatchSize: 25, maxBatchTimeout: 1 };
const COMPATIBILITY_DATE = "2026-04-20";

const BARE_CONSUMER = `
export default {
  async queue(batch, env) {
    await Promise.all(batch.messages.map((message) =>
      env.DB.prepare("INSERT OR IGNORE INTO acks (id) VALUES (?)").bind(message.body.id).run()));
    batch.ackAll();
  },
};`;

type BenchDatabase = Awaited<ReturnType<Miniflare["getD1Database"]>>;

async function migrate(db: BenchDatabase): Promise<void> {
  const dir = join(REPO_ROOT, "migrations");
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()) {
    for (const statement of readFileSync(join(dir, file), "utf8").split("--> statement-breakpoint")) {
      if (statement.trim() !== "") await db.prepare(statement).run();
    }
  }
}

/** Polls `count` until it reaches `target`; returns the elapsed milliseconds since `started`. */
async function waitFor(count: () => Promise<number>, target: number, started: number): Promise<number> {
  for (;;) {
    const done = await count();
    if (done >= target) return performance.now() - started;
    if (performance.now() - started > 600_000) throw new Error(`stalled at ${done} of ${target}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), "rebound-bench-sends-"));
  try {
    console.log("bench:sends: building the Worker bundle…");
    await runWrangler(["deploy", "--dry-run", "--outdir", outdir], { quiet: true });

    const mf = new Miniflare({
      workers: [
        {
          name: "rebound",
          modules: [
            { type: "ESModule", path: "index.js", contents: readFileSync(join(outdir, "index.js"), "utf8") },
          ],
          compatibilityDate: COMPATIBILITY_DATE,
          d1Databases: { DB: "rebound-bench" },
          queueProducers: { SENDS: { queueName: "rebound-sends" } },
          queueConsumers: {
            "rebound-sends": { ...QUEUE, maxRetries: 5, deadLetterQueue: "rebound-sends-dlq" },
            "rebound-sends-dlq": QUEUE,
          },
          bindings: { COMPANY_NAME: "Acme Analytics", DEFAULT_CHANNEL: "outbox" },
        },
        {
          name: "bare",
          modules: [{ type: "ESModule", path: "bare.mjs", contents: BARE_CONSUMER }],
          compatibilityDate: COMPATIBILITY_DATE,
          d1Databases: { DB: "bare-bench" },
          queueProducers: { BARE: { queueName: "bench-bare" } },
          queueConsumers: { "bench-bare": QUEUE },
        },
      ],
    });
    try {
      const db = await mf.getD1Database("DB", "rebound");
      await migrate(db);
      const sendsQueue = await mf.getQueueProducer<{ v: 1; sendId: string }>("SENDS", "rebound");
      const bareDb = await mf.getD1Database("DB", "bare");
      await bareDb.prepare("CREATE TABLE acks (id TEXT PRIMARY KEY)").run();
      const bareQueue = await mf.getQueueProducer<{ id: string }>("BARE", "bare");

      // Rows as enqueueSends writes them (worker/sends/enqueue.ts), then one message per row.
      const now = Date.now();
      const ids = Array.from(
        { length: SENDS },
        (_, i) => `snd_${now.toString(16).padStart(12, "0")}${i.toString(16).padStart(16, "0")}`,
      );
      const variables = JSON.stringify({
        first_name: "Ada",
        card_last4: "4242",
        failed_amount: "$49.00",
        update_url: "https://pay.example/u",
      });
      for (let start = 0; start < SENDS; start += 500) {
        const rows = ids.slice(start, start + 500).map((id, i) => ({ id, customer: `cus_${start + i}` }));
        await db
          .prepare(
            `INSERT INTO sends (id, programme_kind, programme_key, occurrence, step, customer_id, channel, message_key,
               recipient, variables, status, attempts, not_before, created_at, updated_at)
             SELECT r.value ->> 'id', 'dunning', 'default', 'bench', 'day-0', r.value ->> 'customer', 'outbox',
               'dunning_day_0', 'ada@example.com', ?2, 'queued', 0, ?3, ?3, ?3
             FROM json_each(?1) AS r`,
          )
          .bind(JSON.stringify(rows), variables, now)
          .run();
      }

      const started = performance.now();
      for (let start = 0; start < SENDS; start += 100) {
        await sendsQueue.sendBatch(
          ids.slice(start, start + 100).map((sendId) => ({ body: { v: 1 as const, sendId } })),
        );
      }
      const countSent = async () =>
        (
          await db
            .prepare("SELECT count(*) AS n FROM sends WHERE status IN ('sent', 'dead')")
            .first<{ n: number }>()
        )?.n ?? 0;
      const pipelineMs = await waitFor(countSent, SENDS, started);
      const statuses = await db
        .prepare("SELECT status, count(*) AS n FROM sends GROUP BY status")
        .all<{ status: string; n: number }>();
      const outbox = (await db.prepare("SELECT count(*) AS n FROM outbox").first<{ n: number }>())?.n ?? 0;

      const bareStarted = performance.now();
      for (let start = 0; start < SENDS; start += 100) {
        await bareQueue.sendBatch(ids.slice(start, start + 100).map((id) => ({ body: { id } })));
      }
      const countAcks = async () =>
        (await bareDb.prepare("SELECT count(*) AS n FROM acks").first<{ n: number }>())?.n ?? 0;
      const bareMs = await waitFor(countAcks, SENDS, bareStarted);

      const pipelinePerSecond = SENDS / (pipelineMs / 1000);
      const barePerSecond = SENDS / (bareMs / 1000);
      const byStatus = Object.fromEntries(statuses.results.map((row) => [row.status, row.n]));
      console.log(
        `sends consumed      ${SENDS} in ${(pipelineMs / 1000).toFixed(2)} s = ${pipelinePerSecond.toFixed(0)} sends/s`,
      );
      console.log(`  statuses          ${JSON.stringify(byStatus)}; outbox rows ${outbox}`);
      console.log(
        `bare consumer       ${SENDS} in ${(bareMs / 1000).toFixed(2)} s = ${barePerSecond.toFixed(0)} messages/s (one D1 write, ack)`,
      );
      console.log(`ratio               pipeline / bare = ${(pipelinePerSecond / barePerSecond).toFixed(2)}`);
      console.log(
        JSON.stringify({
          sends: SENDS,
          batchSize: QUEUE.maxBatchSize,
          pipelineSeconds: Number((pipelineMs / 1000).toFixed(3)),
          sendsPerSecond: Number(pipelinePerSecond.toFixed(1)),
          bareMessagesPerSecond: Number(barePerSecond.toFixed(1)),
          ratioToBare: Number((pipelinePerSecond / barePerSecond).toFixed(3)),
          sent: byStatus.sent ?? 0,
          dead: byStatus.dead ?? 0,
          outboxRows: outbox,
        }),
      );
    } finally {
      await mf.dispose();
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

await main();
