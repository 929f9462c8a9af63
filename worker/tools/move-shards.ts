/**
 * `npm run shards:move -- --url https://rebound.example.com --key <admin key> [--limit 10] [--parallel]`:
 * moves every customer a growth of the shard count places on a new shard (docs/scaling.md, "Adding
 * shards"). It calls `POST /v1/admin/shards/move` with each answer's `next_cursor` until a pass
 * ends, and starts another pass while customers remain (those skipped because a send of theirs was
 * being delivered or a campaign run was running), waiting `--wait` seconds between passes. With
 * `--parallel` it runs one pass per old shard side by side (`shard` in the request). One line of
 * progress per call; the last line is the summary as JSON. Safe to stop and run again at any point:
 * every step of a move is idempotent. `--from <old count>` names the growth once `SHARDS_FROM` is no
 * longer set (to sweep customers left on an old shard).
 *
 * `npm run shards:move -- --finish --url … --key …`: once the deploy that removes `SHARDS_FROM` has
 * rolled out everywhere, calls `POST /v1/admin/shards/finish` (with each answer's `next_shard` until
 * it is null) to drop the fence triggers, the `moved` tombstones and the placements; prints what was
 * removed per shard, the last line as JSON.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    key: { type: "string", default: process.env.REBOUND_ADMIN_KEY },
    limit: { type: "string", default: "10" },
    wait: { type: "string", default: "10" },
    passes: { type: "string", default: "50" },
    parallel: { type: "boolean", default: false },
    finish: { type: "boolean", default: false },
    from: { type: "string" },
  },
});

/** An answer that is not a success, as the API's error body says it (code, message, details). */
class CallError extends Error {}

/** One call's answer (worker/shards/move-pass.ts). */
interface MoveAnswer {
  from: number;
  moved: { customer_id: string; from: number; to: number; rows: number }[];
  skipped: { customer_id: string; reason: string }[];
  scanned: number;
  next_cursor: string | null;
  remaining: number | null;
  queries: number;
}

/** How the calls went, added up. */
interface Totals {
  moved: number;
  rows: number;
  skipped: number;
  calls: number;
}

/** One finish call's answer (worker/shards/finish.ts). */
interface FinishAnswer {
  shards: { index: number; fence_triggers: number; tombstones: number; placements: number }[];
  next_shard: number | null;
  queries: number;
}

async function post<T>(url: string, key: string, path: string, body: Record<string, unknown>): Promise<T> {
  const response = await fetch(new URL(path, url), {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new CallError(`POST ${path} answered ${response.status}: ${errorText(text)}`);
  return JSON.parse(text) as T;
}

/** `code: message (path: problem; …)` from an API error body, or the body as it came. */
function errorText(body: string): string {
  try {
    const { error } = JSON.parse(body) as {
      error: { code: string; message: string; details?: { path: string; message: string }[] };
    };
    const details = (error.details ?? []).map((detail) => `${detail.path || "body"}: ${detail.message}`);
    return `${error.code}: ${error.message}${details.length > 0 ? ` (${details.join("; ")})` : ""}`;
  } catch {
    return body;
  }
}

function callMove(url: string, key: string, body: Record<string, unknown>): Promise<MoveAnswer> {
  return post<MoveAnswer>(url, key, "/v1/admin/shards/move", body);
}

/** Finishes the growth: calls until `next_shard` is null; answers what was removed in all. */
async function finishShards(url: string, key: string) {
  const totals = { shards: 0, fence_triggers: 0, tombstones: 0, placements: 0, calls: 0 };
  let shard: number | null = 0;
  while (shard !== null) {
    const answer: FinishAnswer = await post<FinishAnswer>(url, key, "/v1/admin/shards/finish", { shard });
    totals.calls += 1;
    for (const done of answer.shards) {
      console.log(
        `shard ${done.index}: dropped ${done.fence_triggers} fence triggers, ${done.tombstones} tombstones, ${done.placements} placements`,
      );
      totals.shards += 1;
      totals.fence_triggers += done.fence_triggers;
      totals.tombstones += done.tombstones;
      totals.placements += done.placements;
    }
    shard = answer.next_shard;
  }
  return totals;
}

/**
 * One pass (over every old shard, or only `shard`): calls until `next_cursor` is null. Answers the
 * last call, whose `remaining` counts what is left, and whether the pass moved or skipped anyone.
 */
async function runPass(
  url: string,
  key: string,
  label: string,
  request: { limit: number; shard?: number; from?: number },
  totals: Totals,
): Promise<{ last: MoveAnswer; busy: boolean }> {
  let cursor: string | null = null;
  let busy = false;
  let answer: MoveAnswer;
  do {
    answer = await callMove(url, key, { ...request, cursor });
    totals.calls += 1;
    totals.moved += answer.moved.length;
    totals.rows += answer.moved.reduce((sum, customer) => sum + customer.rows, 0);
    totals.skipped += answer.skipped.length;
    busy ||= answer.moved.length + answer.skipped.length > 0;
    const reasons = [...new Set(answer.skipped.map((customer) => customer.reason))].join(", ");
    console.log(
      `${label}: moved ${answer.moved.length}, skipped ${answer.skipped.length}${reasons ? ` (${reasons})` : ""}, scanned ${answer.scanned}, ${answer.queries} queries`,
    );
    cursor = answer.next_cursor;
  } while (cursor !== null);
  return { last: answer, busy };
}

/**
 * Runs passes until one ends with nothing remaining (or, when the count is too costly to make, a
 * pass that found no one to move), or `passes` were run. Answers the totals and what remains.
 */
async function moveShards(
  url: string,
  key: string,
  limit: number,
  waitSeconds: number,
  passes: number,
  from: number | undefined,
) {
  const base = from === undefined ? { limit } : { limit, from };
  const totals: Totals = { moved: 0, rows: 0, skipped: 0, calls: 0 };
  let remaining: number | null = null;
  for (let pass = 1; pass <= passes; pass += 1) {
    let outcomes: { last: MoveAnswer; busy: boolean }[];
    if (values.parallel) {
      const first = await runPass(url, key, `pass ${pass} shard 0`, { ...base, shard: 0 }, totals);
      const others = await Promise.all(
        Array.from({ length: first.last.from - 1 }, (_, i) =>
          runPass(url, key, `pass ${pass} shard ${i + 1}`, { ...base, shard: i + 1 }, totals),
        ),
      );
      outcomes = [first, ...others];
    } else {
      outcomes = [await runPass(url, key, `pass ${pass}`, base, totals)];
    }
    const counts = outcomes.map((outcome) => outcome.last.remaining);
    remaining = counts.includes(null) ? null : counts.reduce<number>((sum, n) => sum + (n ?? 0), 0);
    const busy = outcomes.some((outcome) => outcome.busy);
    console.log(`pass ${pass} done: ${remaining ?? "an uncounted number of"} customers still to move`);
    if (remaining === 0 || (remaining === null && !busy)) return { ...totals, passes: pass, remaining: 0 };
    await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
  }
  return { ...totals, passes, remaining };
}

async function main(): Promise<void> {
  if (!values.url || !values.key) {
    console.error(
      "usage: npm run shards:move -- --url <Worker URL> --key <admin key> [--limit 10] [--wait 10] [--parallel] [--from <old count>]\n" +
        "       npm run shards:move -- --finish --url <Worker URL> --key <admin key>   (after SHARDS_FROM is removed)",
    );
    process.exit(2);
  }
  if (values.finish) {
    console.log(JSON.stringify({ finished: await finishShards(values.url, values.key) }));
    return;
  }
  const summary = await moveShards(
    values.url,
    values.key,
    Number(values.limit),
    Number(values.wait),
    Number(values.passes),
    values.from === undefined ? undefined : Number(values.from),
  );
  console.log(JSON.stringify({ ...summary, done: summary.remaining === 0 }));
  if (summary.remaining !== 0) process.exit(1);
}

await main().catch((error: unknown) => {
  // The API's refusal (no growth in progress, a bad key, …) is the whole story: no stack trace.
  if (!(error instanceof CallError)) throw error;
  console.error(`shards:move: ${error.message}`);
  process.exit(1);
});
