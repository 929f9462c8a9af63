/**
 * One function per card: the API's answer in, the card's contents out (headline figures, a chart, a
 * table of the numbers). An answer with nothing in it gets a sentence saying so, never a blank chart.
 */
import { type Bar, barList, churnChart, liftChart, mrrChart, type Whisker } from "./charts";
import { figure, h, headline, note, table } from "./dom";
import { count, instant, money, points, rate } from "./format";
import type {
  Campaigns,
  Cancellations,
  Dunning,
  Figures,
  RecentDecisions,
  Retention,
  SendProblems,
  Winback,
} from "./types";

/** What every card is drawn with besides its answer. */
export interface Frame {
  /** The card's inner width in CSS pixels: charts are drawn to it. */
  width: number;
}

const period = (p: Figures) => (p.start === p.end ? p.start : `${p.start} – ${p.end}`);

function moved(p: Figures): boolean {
  const m = p.mrr;
  return m.start !== 0 || m.end !== 0 || m.new + m.expansion + m.reactivation + m.contraction + m.churn !== 0;
}

export function mrrCard(answer: Retention, frame: Frame): Node[] {
  const { total, currency } = answer;
  const t = (path: string, value: number) =>
    figure(money(value, currency), `retention.total.${path}`, value, "money", currency);
  const r = (path: string, value: number | null) =>
    figure(rate(value), `retention.total.${path}`, value, "rate");
  const summary = headline([
    { label: "MRR at start", value: t("mrr.start", total.mrr.start) },
    { label: "MRR at end", value: t("mrr.end", total.mrr.end) },
    { label: "Net change", value: t("mrr.net_change", total.mrr.net_change) },
    { label: "Gross MRR churn", value: r("gross_mrr_churn", total.gross_mrr_churn) },
    { label: "Net MRR churn", value: r("net_mrr_churn", total.net_mrr_churn) },
    { label: "Net revenue retention", value: r("net_revenue_retention", total.net_revenue_retention) },
  ]);
  if (!answer.periods.some(moved)) return [summary, note(`No MRR in ${currency} in this period.`)];
  const cell = (i: number, path: string, value: number) =>
    figure(money(value, currency), `retention.periods.${i}.mrr.${path}`, value, "money", currency);
  const rows = answer.periods.map((p, i) => [
    period(p),
    cell(i, "end", p.mrr.end),
    cell(i, "new", p.mrr.new),
    cell(i, "expansion", p.mrr.expansion),
    cell(i, "reactivation", p.mrr.reactivation),
    cell(i, "contraction", p.mrr.contraction),
    cell(i, "churn", p.mrr.churn),
    cell(i, "net_change", p.mrr.net_change),
  ]);
  return [
    summary,
    mrrChart(answer.periods, answer.interval, currency, frame.width),
    h(
      "details",
      {},
      h("summary", {}, "The numbers"),
      table(
        `MRR movements per ${answer.interval}, ${currency}`,
        ["Period", "MRR at end", "New", "Expansion", "Reactivation", "Contraction", "Churn", "Net change"],
        rows,
        [1, 2, 3, 4, 5, 6, 7],
      ),
    ),
  ];
}

export function churnCard(answer: Retention, frame: Frame): Node[] {
  const { total } = answer;
  const c = (path: string, value: number) =>
    figure(count(value), `retention.total.customers.${path}`, value, "count");
  const summary = headline([
    { label: "Customers at start", value: c("start", total.customers.start) },
    { label: "Customers at end", value: c("end", total.customers.end) },
    { label: "Lost, voluntary", value: c("lost_voluntary", total.customers.lost_voluntary) },
    { label: "Lost, involuntary", value: c("lost_involuntary", total.customers.lost_involuntary) },
    { label: "Lost of those at start", value: c("lost_from_start", total.customers.lost_from_start) },
    {
      label: "Churn rate",
      value: figure(
        rate(total.customer_churn_rate),
        "retention.total.customer_churn_rate",
        total.customer_churn_rate,
        "rate",
      ),
    },
  ]);
  if (
    answer.periods.every((p) => p.customers.start === 0 && p.customers.end === 0 && p.customers.lost === 0)
  ) {
    return [summary, note("No paying customers in this period.")];
  }
  const rows = answer.periods.map((p, i) => [
    period(p),
    figure(count(p.customers.start), `retention.periods.${i}.customers.start`, p.customers.start, "count"),
    figure(count(p.customers.lost), `retention.periods.${i}.customers.lost`, p.customers.lost, "count"),
    figure(
      count(p.customers.lost_from_start),
      `retention.periods.${i}.customers.lost_from_start`,
      p.customers.lost_from_start,
      "count",
    ),
    figure(
      rate(p.customer_churn_rate),
      `retention.periods.${i}.customer_churn_rate`,
      p.customer_churn_rate,
      "rate",
    ),
  ]);
  return [
    summary,
    churnChart(answer.periods, answer.interval, frame.width),
    h(
      "details",
      {},
      h("summary", {}, "The numbers"),
      table(
        "Customers lost per period",
        ["Period", "At start", "Lost", "Of those at start", "Churn rate"],
        rows,
        [1, 2, 3, 4],
      ),
    ),
  ];
}

export function reasonsCard(answer: Cancellations): Node[] {
  const { currency } = answer;
  const summary = headline([
    {
      label: "Cancellations",
      value: figure(count(answer.total.count), "cancellations.total.count", answer.total.count, "count"),
    },
    {
      label: "MRR lost",
      value: figure(
        money(answer.total.mrr_lost, currency),
        "cancellations.total.mrr_lost",
        answer.total.mrr_lost,
        "money",
        currency,
      ),
    },
  ]);
  if (answer.by_reason.length === 0) return [summary, note("No cancellations in this period.")];
  const bars: Bar[] = answer.by_reason.map((row, i) => ({
    label: row.reason,
    aside: `${count(row.count)} ${row.count === 1 ? "customer" : "customers"}${row.involuntary ? ", involuntary" : ""}`,
    value: row.mrr_lost,
    text: money(row.mrr_lost, currency),
    metric: `cancellations.by_reason.${i}.mrr_lost`,
    format: "money",
    currency,
    kind: row.involuntary ? "involuntary" : "churn",
  }));
  const tenure = answer.tenure.map((row, i) => [
    row.bucket,
    figure(count(row.count), `cancellations.tenure.${i}.count`, row.count, "count"),
    figure(
      money(row.mrr_lost, currency),
      `cancellations.tenure.${i}.mrr_lost`,
      row.mrr_lost,
      "money",
      currency,
    ),
  ]);
  return [
    summary,
    barList(bars, "MRR lost by reason"),
    tenure.length > 0
      ? table("Tenure at cancellation", ["Tenure", "Customers", "MRR lost"], tenure, [1, 2])
      : null,
  ].filter((node): node is HTMLElement => node !== null);
}

export function winbackCard(answer: Winback): Node[] {
  if (answer.targeted === 0) {
    return [note(`No customer got a first win-back message in this period (window ${answer.window}).`)];
  }
  const funnel: Bar[] = [
    {
      label: "Targeted",
      value: answer.targeted,
      text: count(answer.targeted),
      metric: "winback.targeted",
      format: "count",
      kind: "targeted",
    },
    {
      label: "Reactivated",
      value: answer.reactivated,
      text: count(answer.reactivated),
      metric: "winback.reactivated",
      format: "count",
      kind: "reactivation",
    },
  ];
  // Staying is known only for reactivations at least 90 days old: those, and how many did not
  // cancel again within 90 days (the rest of the reactivated are too recent to tell).
  if (answer.reactivated_90d_ago > 0) {
    const stayed = answer.reactivated_90d_ago - answer.rechurned_90d;
    funnel.push({
      label: "Stayed 90 days",
      aside: `(of ${count(answer.reactivated_90d_ago)} reactivated 90+ days ago)`,
      value: stayed,
      text: count(stayed),
      metric: "winback.reactivated_90d_ago - winback.rechurned_90d",
      format: "count",
      kind: "new",
    });
  }
  const revenue = answer.revenue_since_reactivation.map((m, i) =>
    figure(
      money(m.amount, m.currency),
      `winback.revenue_since_reactivation.${i}.amount`,
      m.amount,
      "money",
      m.currency,
    ),
  );
  const sequences = answer.by_sequence.map((row, i) => [
    row.sequence,
    figure(count(row.targeted), `winback.by_sequence.${i}.targeted`, row.targeted, "count"),
    figure(count(row.reactivated), `winback.by_sequence.${i}.reactivated`, row.reactivated, "count"),
    figure(
      rate(row.reactivation_rate),
      `winback.by_sequence.${i}.reactivation_rate`,
      row.reactivation_rate,
      "rate",
    ),
  ]);
  return [
    barList(funnel, "Win-back funnel"),
    headline([
      {
        label: "Reactivation rate",
        value: figure(
          rate(answer.reactivation_rate),
          "winback.reactivation_rate",
          answer.reactivation_rate,
          "rate",
        ),
      },
      {
        label: "Re-churned in 30 days",
        value: figure(count(answer.rechurned_30d), "winback.rechurned_30d", answer.rechurned_30d, "count"),
      },
      {
        label: "Re-churned in 90 days",
        value: figure(count(answer.rechurned_90d), "winback.rechurned_90d", answer.rechurned_90d, "count"),
      },
      {
        label: "Revenue since",
        value: revenue.length > 0 ? h("span", { class: "list" }, ...revenue) : h("span", {}, "none yet"),
      },
    ]),
    sequences.length > 0
      ? table("By sequence", ["Sequence", "Targeted", "Reactivated", "Rate"], sequences, [1, 2, 3])
      : note("No sequence to break down."),
  ];
}

export function dunningCard(answer: Dunning): Node[] {
  const { currency } = answer;
  const m = (path: "failed_mrr" | "recovered_mrr", value: number) =>
    figure(money(value, currency), `dunning.${path}`, value, "money", currency);
  const c = (path: "at_risk" | "opened" | "recovered" | "final" | "canceled", value: number) =>
    figure(count(value), `dunning.${path}`, value, "count");
  const summary = headline([
    { label: "Cases at risk", value: c("at_risk", answer.at_risk) },
    { label: "Opened", value: c("opened", answer.opened) },
    { label: "Recovered", value: c("recovered", answer.recovered) },
    {
      label: "Recovery rate",
      value: figure(rate(answer.recovery_rate), "dunning.recovery_rate", answer.recovery_rate, "rate"),
    },
    { label: "Failed MRR", value: m("failed_mrr", answer.failed_mrr) },
    { label: "Recovered MRR", value: m("recovered_mrr", answer.recovered_mrr) },
    { label: "Ended by dunning", value: c("final", answer.final) },
  ]);
  if (answer.at_risk === 0 && answer.recovered === 0 && answer.by_step.length === 0) {
    return [summary, note("No failed payments in this period.")];
  }
  const bars: Bar[] = answer.by_step.map((row, i) => ({
    label: `After step ${row.step}`,
    aside: money(row.recovered_mrr, currency),
    value: row.recovered,
    text: count(row.recovered),
    metric: `dunning.by_step.${i}.recovered`,
    format: "count",
    kind: "reactivation",
  }));
  const codes = answer.by_decline_code.map((row, i) => [
    row.decline_code || "(none)",
    figure(count(row.at_risk), `dunning.by_decline_code.${i}.at_risk`, row.at_risk, "count"),
    figure(count(row.recovered), `dunning.by_decline_code.${i}.recovered`, row.recovered, "count"),
    figure(rate(row.recovery_rate), `dunning.by_decline_code.${i}.recovery_rate`, row.recovery_rate, "rate"),
  ]);
  return [
    summary,
    bars.length > 0
      ? barList(bars, "Recoveries by the step before them")
      : note("No recovery yet in this period."),
    codes.length > 0
      ? table("By decline code", ["Decline code", "At risk", "Recovered", "Rate"], codes, [1, 2, 3])
      : note("No decline codes."),
  ];
}

export function campaignsCard(answer: Campaigns, frame: Frame): Node[] {
  if (answer.campaigns.length === 0) return [note("No campaign ran in this period.")];
  return answer.campaigns.map((campaign, ci) => {
    const base = `campaigns.campaigns.${ci}`;
    const parts: Node[] = [
      h(
        "h3",
        {},
        campaign.campaign,
        h(
          "small",
          {},
          ` · ${count(campaign.occurrences)} ${campaign.occurrences === 1 ? "run" : "runs"}`,
          campaign.conversion
            ? ` · converts on ${campaign.conversion.event} within ${campaign.conversion.within}`
            : "",
        ),
      ),
    ];
    if (!campaign.conversion)
      parts.push(note("The rules set no conversion for this campaign: its lift is not measured."));
    const whiskers: Whisker[] = [];
    const sentences: Node[] = [];
    campaign.steps.forEach((step, si) => {
      step.lift.forEach((lift, li) => {
        const label = `Step ${step.step}${lift.variant ? `, ${lift.variant}` : ""}`;
        const metric = `${base}.steps.${si}.lift.${li}.absolute`;
        if (lift.enough && lift.absolute) {
          whiskers.push({
            label,
            metric,
            lift: lift.absolute.lift,
            low: lift.absolute.low,
            high: lift.absolute.high,
          });
          sentences.push(
            h(
              "li",
              {},
              `${label}: `,
              figure(points(lift.absolute.lift), `${metric}.lift`, lift.absolute.lift, "points"),
              " (95% interval ",
              figure(points(lift.absolute.low), `${metric}.low`, lift.absolute.low, "points"),
              " to ",
              figure(points(lift.absolute.high), `${metric}.high`, lift.absolute.high, "points"),
              ")",
            ),
          );
        } else {
          sentences.push(
            h(
              "li",
              { class: "not-enough" },
              `${label}: not enough data: ${lift.why ?? "the groups are too small"}.`,
            ),
          );
        }
      });
    });
    if (whiskers.length > 0) parts.push(liftChart(whiskers, frame.width));
    if (sentences.length > 0) parts.push(h("ul", { class: "lift-list" }, ...sentences));
    const rows = campaign.steps.flatMap((step, si) => [
      ...step.variants.map((v, vi) => {
        const at = (field: string, value: number) =>
          figure(count(value), `${base}.steps.${si}.variants.${vi}.${field}`, value, "count");
        return [
          `${step.step}`,
          v.variant ?? "—",
          at("audience", v.audience),
          at("sent", v.sent),
          at("failed", v.failed),
          at("held_out", v.held_out),
          at("frequency_capped", v.frequency_capped),
          at("no_offer", v.no_offer),
          at("conversions", v.conversions),
          figure(
            rate(v.conversion_rate),
            `${base}.steps.${si}.variants.${vi}.conversion_rate`,
            v.conversion_rate,
            "rate",
          ),
        ];
      }),
      [
        `${step.step}`,
        "holdout",
        figure(count(step.holdout.n), `${base}.steps.${si}.holdout.n`, step.holdout.n, "count"),
        "",
        "",
        "",
        "",
        "",
        figure(
          count(step.holdout.conversions),
          `${base}.steps.${si}.holdout.conversions`,
          step.holdout.conversions,
          "count",
        ),
        figure(
          rate(step.holdout.conversion_rate),
          `${base}.steps.${si}.holdout.conversion_rate`,
          step.holdout.conversion_rate,
          "rate",
        ),
      ],
    ]);
    if (rows.length > 0) {
      parts.push(
        table(
          `${campaign.campaign} by step and variant`,
          [
            "Step",
            "Variant",
            "Audience",
            "Sent",
            "Failed",
            "Held out",
            "Capped",
            "No offer",
            "Converted",
            "Rate",
          ],
          rows,
          [2, 3, 4, 5, 6, 7, 8, 9],
        ),
      );
    } else {
      parts.push(note("No step of this campaign sent in this period."));
    }
    return h("div", { class: "campaign" }, ...parts);
  });
}

const text = (metric: string, value: string | number | null) =>
  value === null ? "—" : figure(String(value), metric, value, "text");

export function decisionsCard(answer: RecentDecisions): Node[] {
  if (answer.items.length === 0) return [note("No decisions yet.")];
  const rows = answer.items.map((d, i) => {
    const at = `decisions_recent.items.${i}`;
    return [
      h(
        "span",
        { class: "nowrap" },
        figure(instant(d.created_at), `${at}.created_at`, d.created_at, "instant"),
      ),
      text(`${at}.customer_id`, d.customer_id),
      text(`${at}.context`, d.context),
      text(`${at}.offer_key`, d.offer_key),
      text(`${at}.status`, d.status),
      h(
        "code",
        { class: "version", title: d.ruleset_version },
        text(`${at}.ruleset_version`, d.ruleset_version),
      ),
      h("span", { class: "why" }, text(`${at}.why`, d.why)),
    ];
  });
  return [
    table(
      "Newest first",
      ["When (UTC)", "Customer", "Context", "Offer", "Status", "Ruleset", "Why"],
      rows,
      [],
      true,
    ),
  ];
}

export function sendsCard(answer: SendProblems): Node[] {
  if (answer.items.length === 0) return [note("No send has failed or died.")];
  const rows = answer.items.map((send, i) => {
    const at = `sends_problems.items.${i}`;
    return [
      h(
        "span",
        { class: "nowrap" },
        figure(instant(send.updated_at), `${at}.updated_at`, send.updated_at, "instant"),
      ),
      text(`${at}.customer_id`, send.customer_id),
      h(
        "span",
        {},
        text(`${at}.programme_kind`, send.programme_kind),
        " ",
        text(`${at}.programme_key`, send.programme_key),
        send.step === null ? "" : ` · step ${send.step}`,
      ),
      text(`${at}.channel`, send.channel),
      text(`${at}.status`, send.status),
      figure(count(send.attempts), `${at}.attempts`, send.attempts, "count"),
      h("span", { class: "why" }, text(`${at}.last_error`, send.last_error)),
    ];
  });
  return [
    table(
      "Newest first",
      ["Updated (UTC)", "Customer", "Programme", "Channel", "Status", "Attempts", "Last error"],
      rows,
      [5],
      true,
    ),
  ];
}
