/**
 * `POST /v1/admin/plan`: what a rules change would do to real customers, read-only. The body holds
 * the proposed ruleset (the IR `rebound build` writes) and optionally the base to compare it with
 * (default: the ruleset this Worker runs); the answer is one page of the plan (dsl/plan-report.ts),
 * computed by worker/plan/plan-page.ts, with `next_cursor` for the next. `rebound plan` pages through
 * it and prints the sum. Nothing is written, so a plan may look at any moment, future ones included.
 *
 * On a sharded deployment the page spans every shard (worker/plan/plan-page.ts `planPageOfShards`):
 * the same customers, counts and cursor one database would answer, its cost summed over the shards,
 * and `meta: { shards }` beside the plan.
 *
 * Body: { "ruleset": IR, "base"?: IR, "days"?: 1–90 (30), "at"?: ISO 8601 (now), "cursor"?: string,
 *         "page_size"?: 1–2000 (500) }
 */
import type { Context } from "hono";
import { loadRuleset, type Ruleset, type RulesetIR } from "../../../dsl";
import { wallClock } from "../../clock";
import { isSharded } from "../../db/shards";
import { type ErrorDetail, validationFailed } from "../../errors";
import { planPage, planPageOfShards } from "../../plan/plan-page";
import { parseInstant } from "../../timestamps";
import type { AppEnv, RouteDef } from "../app-env";
import { planDoc } from "../docs/plan";
import { readJsonBody } from "../json-body";

/** Two rulesets of up to ~1 MB each as JSON: far beyond any rule set we know of. */
const MAX_PLAN_BODY_BYTES = 4 * 1_048_576;
const FIELDS = ["ruleset", "base", "days", "at", "cursor", "page_size"] as const;
export const PLAN_LIMITS = Object.freeze({
  maxDays: 90,
  defaultDays: 30,
  maxPageSize: 2000,
  defaultPageSize: 500,
});

async function postPlan(c: Context<AppEnv>): Promise<Response> {
  const body = await readJsonBody(c.req.raw, MAX_PLAN_BODY_BYTES);
  const problems: ErrorDetail[] = [];
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw validationFailed([{ path: "", message: 'must be an object such as {"ruleset": {…}, "days": 30}' }]);
  }
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(FIELDS as readonly string[]).includes(key))
      problems.push({ path: `/${key}`, message: `is not a field of a plan request (${FIELDS.join(", ")})` });
  }
  const proposed = await rulesetField(fields.ruleset, "/ruleset", problems, true);
  const base = await rulesetField(fields.base, "/base", problems, false);
  const days = integerField(fields.days, "/days", 1, PLAN_LIMITS.maxDays, PLAN_LIMITS.defaultDays, problems);
  const pageSize = integerField(
    fields.page_size,
    "/page_size",
    1,
    PLAN_LIMITS.maxPageSize,
    PLAN_LIMITS.defaultPageSize,
    problems,
  );
  let now = wallClock();
  if (fields.at !== undefined) {
    const parsed = typeof fields.at === "string" ? parseInstant(fields.at) : null;
    if (parsed === null)
      problems.push({
        path: "/at",
        message: 'must be an ISO 8601 time with a zone, e.g. "2026-03-03T15:00:00Z"',
      });
    else now = parsed;
  }
  if (fields.cursor !== undefined && typeof fields.cursor !== "string")
    problems.push({ path: "/cursor", message: "must be the `next_cursor` string of the previous page" });
  if (problems.length > 0 || !proposed) throw validationFailed(problems);

  const request = {
    base: base ?? c.get("ruleset"),
    baseSource: base ? ("request" as const) : ("deployed" as const),
    proposed,
    now,
    days,
    cursor: typeof fields.cursor === "string" ? fields.cursor : "",
    pageSize,
  };
  if (isSharded(c.env)) {
    const { shards, ...plan } = await planPageOfShards(c.env, request);
    return c.json({ plan, meta: { shards } });
  }
  const plan = await planPage(c.env.DB, request);
  return c.json({ plan });
}

/**
 * Compiled rulesets by the SHA-256 of their JSON: a plan's pages send the same rulesets again and
 * again, and compiling one costs far more than hashing it. A few per isolate.
 */
const loaded = new Map<string, Ruleset>();

async function rulesetField(
  value: unknown,
  path: string,
  problems: ErrorDetail[],
  required: boolean,
): Promise<Ruleset | null> {
  if (value === undefined) {
    if (required)
      problems.push({
        path,
        message: "is required: the ruleset `rebound build` compiles (rebound plan sends it)",
      });
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({ path, message: "must be a ruleset object as `rebound build` writes it" });
    return null;
  }
  const text = JSON.stringify(value);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const key = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  const cached = loaded.get(key);
  if (cached) return cached;
  try {
    const ruleset = loadRuleset(value as RulesetIR);
    if (loaded.size >= 8) loaded.delete(loaded.keys().next().value!);
    loaded.set(key, ruleset);
    return ruleset;
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    problems.push({
      path,
      message: `is not a ruleset this Worker can run (${why}): build it with the same Rebound version`,
    });
    return null;
  }
}

function integerField(
  value: unknown,
  path: string,
  min: number,
  max: number,
  fallback: number,
  problems: ErrorDetail[],
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    problems.push({ path, message: `must be a whole number from ${min} to ${max}` });
    return fallback;
  }
  return value;
}

export const planRoutes: readonly RouteDef[] = [
  { method: "POST", path: "/v1/admin/plan", scope: "admin", handler: postPlan, doc: planDoc },
];
