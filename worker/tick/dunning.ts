/**
 * Dunning on the clock. Each tick:
 * 1. opens a case for every customer whose profile shows an open failed payment (ingest keeps
 *    `payment_failed_at` / `failed_invoice_id` from the event set) and has none yet, choosing the
 *    first cadence whose `when` holds;
 * 2. walks the open cases: a `payment.succeeded` for the invoice closes the case as `recovered`
 *    (with the MRR it kept and the step that preceded it) before anything else can go out; past the
 *    final day the final action runs (a `subscription.canceled` event with reason `payment_failed`
 *    through ingest, and/or a webhook) and the case closes as `final`; a customer who canceled
 *    closes it as `canceled`; otherwise the latest step due is sent once (earlier unsent steps
 *    are not sent late: a customer never gets two reminders at once).
 * Every action is idempotent (send keys, event ids, conditional updates), so concurrent or retried
 * ticks repeat nothing.
 *
 * Time is a parameter: a tick at `now` acts only on facts with a time <= now (the failure, the
 * payment that recovers it, the cancellation that closes it), so storing a whole history and then
 * moving the clock (tests, replays, simulations) behaves like living through it. The bounds are in
 * the index ranges, not filters in JavaScript. The profile keeps only the latest state, so a payment
 * later than now that already closed the failed invoice there opens no case at now.
 */

import type { CompiledDunning } from "../../dsl";
import { DAY_MS, dunningPosition } from "../../dsl";
import { writeEvents } from "../ingest/write-events";
import { localDay, reportingZone } from "../metrics/days";
import type { SendRequest } from "../sends/types";
import type { CustomerRowJson, TickContext } from "./context";
import type { DryOpenedCase } from "./dry-run";
import { evalContexts } from "./eval-context";
import { TICK_LIMITS } from "./limits";
import { logTick } from "./log";
import { count } from "./report";
import { enqueueTickSends, stepSend } from "./step-send";

/** Runs the dunning programme for one tick. */
export async function runDunning(tc: TickContext): Promise<void> {
  await openCases(tc);
  await progressCases(tc);
}

/** The invoice key of a failure without an invoice id (one case per failure instant). */
const INVOICE_KEY_SQL = "coalesce(c.failed_invoice_id, 'failed@' || c.payment_failed_at)";

async function openCases(tc: TickContext): Promise<void> {
  const { env, ruleset, now, budget } = tc;
  let cursor: [number, number] = [Number.MIN_SAFE_INTEGER, 0];
  for (;;) {
    if (budget.exhausted()) return;
    // customers_open_failure: only customers with an open failed payment are read, in the index's
    // order (payment_failed_at, rowid), each page starting at its cursor (the leading >= bound is
    // what makes SQLite seek there; the row value skips the ties already read). Paging by id made
    // every page read and sort every open failure.
    const { results, meta } = await env.DB.prepare(
      `SELECT c.*, c.rowid AS rebound_rowid, ${INVOICE_KEY_SQL} AS rebound_invoice
       FROM customers c INDEXED BY customers_open_failure
       WHERE c.payment_failed_at >= ?1 AND c.payment_failed_at <= ?4 AND (c.payment_failed_at, c.rowid) > (?1, ?2)
         AND c.status <> 'canceled'
         AND NOT EXISTS (SELECT 1 FROM dunning_cases d WHERE d.customer_id = c.id AND d.invoice_id = ${INVOICE_KEY_SQL})
       ORDER BY c.payment_failed_at, c.rowid LIMIT ?3`,
    )
      .bind(cursor[0], cursor[1], TICK_LIMITS.lifecyclePageSize, now)
      .all<CustomerRowJson & { rebound_invoice: string; rebound_rowid: number }>();
    tc.report.dunning.rows_read += meta.rows_read ?? 0;
    if (results.length === 0) return;
    const contexts = await evalContexts(env.DB, ruleset, results, now);
    const cases = [];
    for (const ctx of contexts) {
      const position = dunningPosition(ruleset, ctx);
      const row = ctx.customer as CustomerRowJson & { rebound_invoice: string };
      if (!position) continue;
      cases.push({
        customer_id: row.id,
        invoice_id: row.rebound_invoice,
        cadence: position.cadence.ir.key,
        failed_at: position.paymentFailedAt,
        amount: typeof row.failed_amount === "number" ? row.failed_amount : null,
        currency: typeof row.currency === "string" ? row.currency : ruleset.currency,
      });
    }
    if (cases.length > 0 && tc.dryRun) {
      for (const opened of cases) tc.dryRun.openCase(opened);
      tc.report.dunning.opened += cases.length;
    } else if (cases.length > 0) {
      // What the metrics trigger counts (migrations/0008_metrics.sql): the failure's decline code,
      // the MRR at risk, and the reporting day the case opened on.
      const customers = new Map(results.map((row) => [row.id, row]));
      const stored = cases.map((opened) => {
        const customer = customers.get(opened.customer_id);
        return {
          ...opened,
          decline_code: typeof customer?.decline_code === "string" ? customer.decline_code : null,
          mrr_at_risk: typeof customer?.mrr === "number" ? customer.mrr : null,
          opened_day: localDay(now, reportingZone(ruleset, customer?.timezone)),
        };
      });
      const inserted = await env.DB.prepare(
        `INSERT INTO dunning_cases (customer_id, invoice_id, cadence, status, failed_at, amount, currency, opened_at,
           decline_code, mrr_at_risk, opened_day)
         SELECT x.value ->> 'customer_id', x.value ->> 'invoice_id', x.value ->> 'cadence', 'open',
           x.value ->> 'failed_at', x.value ->> 'amount', x.value ->> 'currency', ?2,
           x.value ->> 'decline_code', x.value ->> 'mrr_at_risk', x.value ->> 'opened_day'
         FROM json_each(?1) AS x WHERE true
         ON CONFLICT DO NOTHING
         RETURNING 1`,
      )
        .bind(JSON.stringify(stored), now)
        .run();
      // Rows returned, not meta.changes: D1 counts the metrics trigger's writes as changes too.
      tc.report.dunning.opened += inserted.results.length;
    }
    const last = results[results.length - 1]!;
    cursor = [Number(last.payment_failed_at), last.rebound_rowid];
    if (results.length < TICK_LIMITS.lifecyclePageSize) return;
  }
}

interface CaseRow extends CustomerRowJson {
  case_rowid: number;
  case_invoice_id: string;
  case_cadence: string;
  case_failed_at: number;
  case_amount: number | null;
  case_last_step: string | null;
  case_paid_at: number | null;
}

/** When a payment for the case's invoice succeeded, at or before the tick (null: not yet). */
const paidAtSql = (customerId: string, invoiceId: string, now: string) =>
  `(SELECT min(s.occurred_at) FROM events s WHERE s.customer_id = ${customerId} AND s.type = 'payment.succeeded'
     AND s.occurred_at <= ${now} AND json_extract(s.properties, '$.invoice_id') = ${invoiceId})`;

async function progressCases(tc: TickContext): Promise<void> {
  const { env, now, budget } = tc;
  let cursor: [number, number] = [Number.MIN_SAFE_INTEGER, 0];
  for (;;) {
    if (budget.exhausted()) return;
    // dunning_cases_open (partial, ordered by failed_at then rowid): closed cases cost nothing.
    const { results, meta } = await env.DB.prepare(
      `SELECT c.*, d.rowid AS case_rowid, d.invoice_id AS case_invoice_id, d.cadence AS case_cadence,
         d.failed_at AS case_failed_at, d.amount AS case_amount, d.last_step AS case_last_step,
         ${paidAtSql("d.customer_id", "d.invoice_id", "?4")} AS case_paid_at
       FROM dunning_cases d JOIN customers c ON c.id = d.customer_id
       WHERE d.status = 'open' AND (d.failed_at, d.rowid) > (?1, ?2) AND d.failed_at <= ?4
       ORDER BY d.failed_at, d.rowid LIMIT ?3`,
    )
      .bind(cursor[0], cursor[1], TICK_LIMITS.lifecyclePageSize, now)
      .all<CaseRow>();
    tc.report.dunning.rows_read += meta.rows_read ?? 0;
    if (results.length === 0) break;
    await progressPage(tc, results);
    const last = results[results.length - 1]!;
    cursor = [last.case_failed_at, last.case_rowid];
    if (results.length < TICK_LIMITS.lifecyclePageSize) break;
  }
  if (tc.dryRun) await progressOpenedInMemory(tc, tc.dryRun.casesOpened());
}

/**
 * A dry tick's own cases: openCases recorded them instead of inserting them, so they are read as
 * progressCases reads a stored case (the customer row, a payment since), with no step sent yet.
 */
async function progressOpenedInMemory(tc: TickContext, opened: readonly DryOpenedCase[]): Promise<void> {
  for (let start = 0; start < opened.length; start += TICK_LIMITS.lifecyclePageSize) {
    if (tc.budget.exhausted()) return;
    const page = opened.slice(start, start + TICK_LIMITS.lifecyclePageSize);
    const { results, meta } = await tc.env.DB.prepare(
      `SELECT c.*, -1 - x.key AS case_rowid, x.value ->> 'invoice_id' AS case_invoice_id,
         x.value ->> 'cadence' AS case_cadence, x.value ->> 'failed_at' AS case_failed_at,
         x.value ->> 'amount' AS case_amount, NULL AS case_last_step,
         ${paidAtSql("c.id", "x.value ->> 'invoice_id'", "?2")} AS case_paid_at
       FROM json_each(?1) AS x JOIN customers c ON c.id = x.value ->> 'customer_id'
       ORDER BY x.key`,
    )
      .bind(JSON.stringify(page), tc.now)
      .all<CaseRow>();
    tc.report.dunning.rows_read += meta.rows_read ?? 0;
    await progressPage(tc, results);
  }
}

/** Progresses one page of open cases: their sends, step marks and final closes. */
async function progressPage(tc: TickContext, results: readonly CaseRow[]): Promise<void> {
  const { env, now } = tc;
  const sends: { request: SendRequest; row: CaseRow }[] = [];
  // A case reaching its final day closes only once its final sends are stored: closed first, a
  // failed enqueue would leave it closed with its last message never sent, and no tick retries.
  const finalCloses: (() => Promise<void>)[] = [];
  for (const row of results) {
    const outcome = await progressCase(tc, row);
    sends.push(...outcome.requests.map((request) => ({ request, row })));
    if (outcome.closeFinal) finalCloses.push(outcome.closeFinal);
  }
  if (sends.length > 0) {
    const enqueued = await enqueueTickSends(
      tc,
      sends.map((send) => send.request),
    );
    tc.report.dunning.sent += enqueued.createdIds.length;
    for (const send of sends)
      count(tc.report.dunning.steps, `${send.request.programmeKey}/${send.request.step}`);
    const stepUpdates = sends
      .filter((send) => send.request.step.startsWith("day-"))
      .map((send) => ({ rowid: send.row.case_rowid, step: send.request.step }));
    // Only forward in time: a tick dated before the last step's (a replay, a late or concurrent
    // tick) asks again for a step sent long ago, which creates nothing and must not rewind the case.
    if (stepUpdates.length > 0 && !tc.dryRun) {
      await env.DB.prepare(
        `UPDATE dunning_cases SET last_step = u.value ->> 'step', last_step_at = ?2
           FROM json_each(?1) AS u WHERE dunning_cases.rowid = u.value ->> 'rowid' AND dunning_cases.status = 'open'
             AND (dunning_cases.last_step_at IS NULL OR dunning_cases.last_step_at <= ?2)`,
      )
        .bind(JSON.stringify(stepUpdates), now)
        .run();
    }
  }
  for (const closeFinal of finalCloses) await closeFinal();
}

/**
 * Decides one open case: the sends it needs (none when it closed or nothing is due), and on its
 * final day the close to run once those sends are stored (a retried tick stores none twice).
 */
async function progressCase(
  tc: TickContext,
  row: CaseRow,
): Promise<{ requests: SendRequest[]; closeFinal?: () => Promise<void> }> {
  const { env, ruleset, now } = tc;
  const cadence = ruleset.dunning.find((candidate) => candidate.ir.key === row.case_cadence);
  const close = async (status: "recovered" | "canceled" | "final", extra: string, params: unknown[]) => {
    if (tc.dryRun) {
      tc.dryRun.closeCase({
        customer_id: row.id,
        invoice_id: row.case_invoice_id,
        cadence: row.case_cadence,
        status,
        actions: status === "final" ? [...(cadence?.ir.final.actions ?? [])] : null,
      });
      return true;
    }
    // The reporting day it is counted on: a recovery's when the invoice was paid, others' now.
    const closedAt = status === "recovered" && row.case_paid_at !== null ? row.case_paid_at : now;
    const closedDay = localDay(closedAt, reportingZone(ruleset, row.timezone));
    const result = await env.DB.prepare(
      `UPDATE dunning_cases SET status = ?2, closed_at = ?3,
         closed_day = max(?${params.length + 4}, coalesce(opened_day, ?${params.length + 4})) ${extra}
       WHERE rowid = ?1 AND status = 'open'`,
    )
      .bind(row.case_rowid, status, now, ...params, closedDay)
      .run();
    return result.meta.changes > 0;
  };

  if (row.case_paid_at !== null) {
    if (
      await close("recovered", ", recovered_at = ?4, mrr_saved = ?5, recovered_after_step = ?6", [
        row.case_paid_at,
        typeof row.mrr === "number" ? row.mrr : null,
        row.case_last_step,
      ])
    ) {
      tc.report.dunning.recovered += 1;
      logTick(tc, "tick.dunning_recovered", {
        customerId: row.id,
        invoiceId: row.case_invoice_id,
        afterStep: row.case_last_step,
        mrrSaved: typeof row.mrr === "number" ? row.mrr : null,
      });
    }
    return { requests: [] };
  }
  if (!cadence) {
    logTick(tc, "tick.dunning_error", {
      customerId: row.id,
      invoiceId: row.case_invoice_id,
      error: `cadence "${row.case_cadence}" is no longer in the rules; the case stays open`,
    });
    return { requests: [] };
  }
  const elapsed = now - row.case_failed_at;
  const caseVariables = { invoice_id: row.case_invoice_id };
  const customer = { ...row, failed_amount: row.case_amount ?? row.failed_amount };
  const programme = (step: string) => ({
    kind: "dunning" as const,
    key: cadence.ir.key,
    occurrence: row.case_invoice_id,
    step,
  });

  if (elapsed >= cadence.ir.final.day * DAY_MS) {
    const requests = await finalActions(tc, row, cadence, customer, programme);
    const closeFinal = async () => {
      if (await close("final", ", final_actions = ?4", [JSON.stringify(cadence.ir.final.actions)])) {
        tc.report.dunning.final_actions += 1;
        logTick(tc, "tick.dunning_final", {
          customerId: row.id,
          invoiceId: row.case_invoice_id,
          actions: cadence.ir.final.actions.join(","),
        });
      }
    };
    return { requests, closeFinal };
  }
  // A cancellation later than now has not happened yet at this tick.
  if (row.status === "canceled" && typeof row.canceled_at === "number" && row.canceled_at <= now) {
    if (await close("canceled", "", [])) tc.report.dunning.canceled += 1;
    return { requests: [] };
  }
  const stepIndex = latestStep(cadence, elapsed);
  if (stepIndex === null) return { requests: [] };
  const step = cadence.ir.steps[stepIndex]!;
  const stepKey = `day-${step.day}`;
  if (row.case_last_step === stepKey) return { requests: [] };
  const outcome = await stepSend({
    env,
    ruleset,
    now,
    customer,
    programme: programme(stepKey),
    content: { message: step.message, offer: null, fallbackMessage: null },
    offerContext: "dunning",
    extraVariables: caseVariables,
    dryRun: tc.dryRun,
  });
  return { requests: outcome.kind === "send" ? [outcome.request] : [] };
}

function latestStep(cadence: CompiledDunning, elapsed: number): number | null {
  let index: number | null = null;
  cadence.ir.steps.forEach((step, i) => {
    if (elapsed >= step.day * DAY_MS) index = i;
  });
  return index;
}

/** The final action: cancel through ingest (idempotent event id), a webhook, the closing message. */
async function finalActions(
  tc: TickContext,
  row: CaseRow,
  cadence: CompiledDunning,
  customer: CustomerRowJson,
  programme: (step: string) => { kind: "dunning"; key: string; occurrence: string; step: string },
): Promise<SendRequest[]> {
  const { env, ruleset, now } = tc;
  const final = cadence.ir.final;
  const requests: SendRequest[] = [];
  const variables = { invoice_id: row.case_invoice_id, dunning_actions: final.actions.join(",") };
  if (final.actions.includes("cancel") && row.status !== "canceled" && tc.dryRun) {
    tc.dryRun.cancel({ customer_id: row.id, invoice_id: row.case_invoice_id, cadence: cadence.ir.key });
  } else if (final.actions.includes("cancel") && row.status !== "canceled") {
    // Through ingest, like any cancellation, so the profile (status, canceled_at, churn_reason) stays
    // a function of the event set; the id makes a repeat a no-op.
    await writeEvents(
      env.DB,
      [
        {
          id: `rebound:dunning:${row.id}:${row.case_invoice_id}:cancel`,
          customer_id: row.id,
          type: "subscription.canceled",
          occurred_at: now,
          properties: JSON.stringify({
            comment: `dunning cadence ${cadence.ir.key} ended with invoice ${row.case_invoice_id} unpaid`,
            invoice_id: row.case_invoice_id,
            reason: "payment_failed",
          }),
        },
      ],
      now,
      ruleset,
    );
  }
  if (final.message !== null) {
    const outcome = await stepSend({
      env,
      ruleset,
      now,
      customer,
      programme: programme("final"),
      content: { message: final.message, offer: null, fallbackMessage: null },
      offerContext: "dunning",
      dryRun: tc.dryRun,
      extraVariables: variables,
    });
    if (outcome.kind === "send") requests.push(outcome.request);
  }
  if (final.actions.includes("webhook")) {
    const message = final.message ?? cadence.ir.steps[cadence.ir.steps.length - 1]?.message ?? null;
    const outcome = await stepSend({
      env,
      ruleset,
      now,
      customer,
      programme: programme("final-webhook"),
      content: { message, offer: null, fallbackMessage: null },
      offerContext: "dunning",
      dryRun: tc.dryRun,
      extraVariables: { ...variables, event: "dunning.final" },
    });
    if (outcome.kind === "send") requests.push({ ...outcome.request, channel: "webhook" });
  }
  return requests;
}
