/**
 * The windowed lifecycle programmes: win-back sequences (days after a cancellation), inactivity
 * nudges (once per spell of inactivity) and card-expiry reminders. Each step is due at a fixed
 * instant (canceled_at + day, spell start + threshold, expiry − days), so a tick reads only the
 * customers whose step came due since the last lifecycle run (the `lifecycle` watermark, re-reading
 * `lifecycleOverlapMs` for late events), through a range index, minus those already sent the step
 * (anti-join on the sends key). Catch-up beyond `lifecycleCatchUpMs` is cut and logged.
 *
 * Win-back ends at reactivation (the scan requires status `canceled`); inactivity ends when activity
 * starts a new spell (a new spell is a new occurrence).
 *
 * Time is a parameter: no step is sent on a fact later than `now`. The ranges end at now (a
 * cancellation or spell start after now is outside them) and a card-expiry reminder needs the
 * `card.expiring` report to be at or before now. The profile keeps only the latest state, though:
 * a reactivation or activity later than now has already cleared `canceled_at` or moved the spell,
 * so such a customer gets no step at now. That errs towards silence (never a "we miss you" to a
 * customer known to be back), which the tick prefers to rebuilding each profile as of now.
 */

import type { StepIR } from "../../dsl";
import { inactivityDue, winbackPosition } from "../../dsl";
import type { ProgrammeKind, SendRequest } from "../sends/types";
import type { CustomerRowJson, TickContext } from "./context";
import { evalContexts } from "./eval-context";
import { TICK_LIMITS } from "./limits";
import { logTick } from "./log";
import { count } from "./report";
import { enqueueTickSends, stepSend } from "./step-send";

const DAY_MS = 86_400_000;

/** The ISO 8601 text of an epoch-ms column, exactly as Date#toISOString writes it (integer arithmetic). */
function isoSql(column: string): string {
  return `(strftime('%Y-%m-%dT%H:%M:%S', ${column} / 1000, 'unixepoch') || printf('.%03dZ', ${column} % 1000))`;
}

const SPELL_SQL = "coalesce(c.last_active_at, c.signed_up_at, c.first_seen_at)";

interface ScanRow extends CustomerRowJson {
  rebound_key: number;
  rebound_tie: number | string;
}

/** Runs win-back, inactivity and card-expiry steps due in (watermark − overlap, now]. */
export async function runLifecycle(tc: TickContext, watermark: number | null): Promise<void> {
  const { now } = tc;
  const wanted = (watermark === null ? now : Math.min(watermark, now)) - TICK_LIMITS.lifecycleOverlapMs;
  const floor = now - TICK_LIMITS.lifecycleCatchUpMs;
  const from = Math.max(wanted, floor);
  tc.report.lifecycle.window = { from: new Date(from).toISOString(), to: new Date(now).toISOString() };
  if (wanted < floor) {
    tc.report.lifecycle.truncated = true;
    logTick(tc, "tick.lifecycle_catch_up_truncated", {
      watermark: watermark === null ? null : new Date(watermark).toISOString(),
      from: new Date(from).toISOString(),
    });
  }
  for (const sequence of tc.ruleset.winback) {
    for (const step of sequence.ir.steps) {
      const offset = (step.day ?? 0) * DAY_MS;
      await scan(
        tc,
        {
          kind: "winback",
          key: sequence.ir.key,
          step: `day-${step.day ?? 0}`,
          // customers_status_canceled_at: a range of cancellations.
          where: `c.status = 'canceled' AND c.canceled_at > ? AND c.canceled_at <= ?
            AND c.churn_reason IN (SELECT value FROM json_each(?))`,
          whereParams: [from - offset, now - offset, JSON.stringify(sequence.ir.reasons)],
          orderKey: "c.canceled_at",
          // The index holds (status, canceled_at, id): tie on id so its order is the page order.
          tieKey: "c.id",
          index: "customers_status_canceled_at",
          occurrenceSql: isoSql("c.canceled_at"),
        },
        async (ctxRow, ctx) => {
          // The first sequence whose reasons and `when` hold is the customer's.
          if (winbackPosition(tc.ruleset, ctx)?.sequence.ir.key !== sequence.ir.key) return null;
          return { occurrence: iso(ctxRow.canceled_at), content: step, offerContext: "winback" as const };
        },
      );
    }
  }
  for (const rule of tc.ruleset.inactivity) {
    const offset = rule.ir.afterMs;
    await scan(
      tc,
      {
        kind: "inactivity",
        key: rule.ir.key,
        step: "0",
        // customers_inactivity_spell: the same expression, so the range is an index seek.
        where: `c.status = 'active' AND ${SPELL_SQL} > ? AND ${SPELL_SQL} <= ?`,
        whereParams: [from - offset, now - offset],
        orderKey: SPELL_SQL,
        index: "customers_inactivity_spell",
        occurrenceSql: isoSql(SPELL_SQL),
      },
      async (_row, ctx) => {
        const due = inactivityDue(tc.ruleset, ctx).find((candidate) => candidate.rule.ir.key === rule.ir.key);
        if (!due) return null;
        return {
          occurrence: iso(due.spellStartedAt),
          content: rule.ir.step,
          offerContext: "in_app" as const,
        };
      },
    );
  }
  const cardExpiry = tc.ruleset.cardExpiry;
  if (cardExpiry) {
    const smallest = Math.min(...cardExpiry.daysBefore);
    for (const daysBefore of cardExpiry.daysBefore) {
      const offset = daysBefore * DAY_MS;
      // The last reminder also reaches cards reported late, up to their expiry.
      const lower = daysBefore === smallest ? now : Math.max(now, from + offset);
      await scan(
        tc,
        {
          kind: "card_expiry",
          key: "card_expiry",
          step: `${daysBefore}d-before`,
          // A card reported after now waits: the report must be a raw event at or before now
          // (events_customer_type_time, one seek per candidate), or one of an earlier day, which
          // the daily history keeps after the archiver has moved the raw event (days before today
          // are wholly before now).
          where: `c.card_expires_at > ? AND c.card_expires_at <= ? AND c.status <> 'canceled'
            AND (EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.type = 'card.expiring' AND e.occurred_at <= ?)
              OR EXISTS (SELECT 1 FROM event_days d WHERE d.customer_id = c.id AND d.type = 'card.expiring' AND d.day < ?))`,
          whereParams: [lower, now + offset, now, Math.floor(now / DAY_MS)],
          orderKey: "c.card_expires_at",
          index: "customers_card_expires_at",
          occurrenceSql: isoSql("c.card_expires_at"),
        },
        async (row) => ({
          occurrence: iso(row.card_expires_at),
          content: { message: cardExpiry.message, offer: null, fallbackMessage: null },
          offerContext: "dunning" as const,
        }),
      );
    }
  }
}

interface ScanSpec {
  kind: ProgrammeKind;
  key: string;
  step: string;
  where: string;
  whereParams: (string | number)[];
  /** The ranged expression: pages are keyset on (orderKey, tieKey), the index's own order. */
  orderKey: string;
  /** What breaks ties of `orderKey` in the index: its rowid unless the index ends in another column. */
  tieKey?: "c.id";
  /** The range index (migration 0004), named so the planner cannot prefer a walk of every customer. */
  index: string;
  /** The occurrence text in SQL, for the anti-join on the sends key. */
  occurrenceSql: string;
}

type StepChoice = {
  occurrence: string;
  content: Pick<StepIR, "message" | "offer" | "fallbackMessage">;
  offerContext: "winback" | "in_app" | "dunning";
} | null;

async function scan(
  tc: TickContext,
  spec: ScanSpec,
  choose: (row: ScanRow, ctx: Awaited<ReturnType<typeof evalContexts>>[number]) => Promise<StepChoice>,
): Promise<void> {
  const { env, ruleset, now, budget } = tc;
  const tie = spec.tieKey ?? "c.rowid";
  let cursor: [number, number | string] = [Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  for (;;) {
    if (budget.exhausted()) return;
    // The leading `orderKey >= cursor` is what makes SQLite start the index range at the cursor (the
    // row value alone only filters, so every page re-read the window from its start); the row value
    // then skips the ties already handled.
    const { results, meta } = await env.DB.prepare(
      `SELECT c.*, ${spec.orderKey} AS rebound_key, ${tie} AS rebound_tie FROM customers c INDEXED BY ${spec.index}
       WHERE ${spec.orderKey} >= ? AND ${spec.where} AND (${spec.orderKey}, ${tie}) > (?, ?)
         AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.programme_kind = ? AND s.programme_key = ?
           AND s.occurrence = ${spec.occurrenceSql} AND s.step = ? AND s.customer_id = c.id)
       ORDER BY ${spec.orderKey}, ${tie} LIMIT ?`,
    )
      .bind(
        cursor[0],
        ...spec.whereParams,
        cursor[0],
        cursor[1],
        spec.kind,
        spec.key,
        spec.step,
        TICK_LIMITS.lifecyclePageSize,
      )
      .all<ScanRow>();
    tc.report.lifecycle.rows_read += meta.rows_read ?? 0;
    if (results.length === 0) return;
    const contexts = await evalContexts(env.DB, ruleset, results, now);
    const sends: SendRequest[] = [];
    let handled = 0;
    for (const [index, row] of results.entries()) {
      // An offer costs a decision (one to four statements): stop where the budget ends; the
      // watermark stays, so the next tick's window still holds the rest.
      if (budget.exhausted(20)) break;
      handled += 1;
      // The dunning final action of this dry tick canceled the customer: the real tick's scan,
      // reading after that write, would not have found them (it asks for a status they no longer have).
      if (spec.kind !== "winback" && tc.dryRun?.canceled(row.id)) continue;
      const choice = await choose(row, contexts[index]!);
      if (!choice) continue;
      const outcome = await stepSend({
        env,
        ruleset,
        now,
        customer: row,
        programme: { kind: spec.kind, key: spec.key, occurrence: choice.occurrence, step: spec.step },
        content: choice.content,
        offerContext: choice.offerContext,
        dryRun: tc.dryRun,
      });
      if (outcome.kind === "no_offer") {
        tc.report.lifecycle.no_offer += 1;
        continue;
      }
      sends.push(outcome.request);
      if (outcome.deferred) tc.report.lifecycle.deferred += 1;
      count(tc.report.lifecycle.steps, `${spec.kind}/${spec.key}/${spec.step}`);
    }
    if (sends.length > 0) {
      const enqueued = await enqueueTickSends(tc, sends);
      tc.report.lifecycle.sent += enqueued.createdIds.length;
    }
    if (handled < results.length) return;
    const last = results[results.length - 1]!;
    cursor = [last.rebound_key, last.rebound_tie];
    if (results.length < TICK_LIMITS.lifecyclePageSize) return;
  }
}

function iso(epochMs: unknown): string {
  return new Date(Number(epochMs)).toISOString();
}
