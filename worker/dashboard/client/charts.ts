/**
 * The charts, as hand-written SVG sized to the card they are drawn in (the page redraws them when
 * the window's width changes). Every mark that stands for a figure carries the figure's
 * `data-metric`, so the browser test can compare a bar with the API's answer.
 */
import { type FigureFormat, h, metricAttributes, s } from "./dom";
import { moneyShort, rate } from "./format";
import type { Figures } from "./types";

/** A period's short label: "2026-03" for months, "03-02" for days and weeks. */
function periodLabel(period: Figures, interval: string): string {
  return interval === "month" ? period.start.slice(0, 7) : period.start.slice(5);
}

/** Shows at most one x label per `minGap` pixels. */
function labelStep(count: number, plotWidth: number, minGap = 52): number {
  return Math.max(1, Math.ceil((count * minGap) / Math.max(plotWidth, 1)));
}

function title(text: string): SVGTitleElement {
  return s("title", {}, text);
}

const MOVEMENTS = [
  { key: "new", label: "New", sign: 1 },
  { key: "expansion", label: "Expansion", sign: 1 },
  { key: "reactivation", label: "Reactivation", sign: 1 },
  { key: "contraction", label: "Contraction", sign: -1 },
  { key: "churn", label: "Churn", sign: -1 },
] as const;

/** A legend of coloured swatches (the colours are the CSS classes the marks carry). */
export function legend(items: { label: string; kind: string }[]): HTMLElement {
  return h(
    "ul",
    { class: "legend" },
    ...items.map(({ label, kind }) => h("li", {}, h("span", { class: `swatch ${kind}` }), label)),
  );
}

/**
 * MRR at the end of each period (a line, top) over its movements (stacked bars around zero, below:
 * new, expansion and reactivation up; contraction and churn down).
 */
export function mrrChart(periods: Figures[], interval: string, currency: string, width: number): HTMLElement {
  const left = 58;
  const right = 10;
  const plotWidth = width - left - right;
  const band = plotWidth / periods.length;
  const barWidth = Math.max(1, Math.min(band * 0.7, 48));
  const lineTop = 26;
  const lineHeight = 110;
  const barsTop = lineTop + lineHeight + 40;
  const barsHeight = 140;
  const height = barsTop + barsHeight + 26;
  const x = (index: number) => left + band * index + band / 2;

  const mrrMax = Math.max(1, ...periods.map((p) => Math.max(p.mrr.end, p.mrr.start)));
  const yLine = (value: number) => lineTop + lineHeight - (value / mrrMax) * lineHeight;
  const up = Math.max(1, ...periods.map((p) => p.mrr.new + p.mrr.expansion + p.mrr.reactivation));
  const down = Math.max(1, ...periods.map((p) => p.mrr.contraction + p.mrr.churn));
  const unit = barsHeight / (up + down);
  const zero = barsTop + up * unit;

  const svg = s("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": "MRR at the end of each period, and its movements",
  });
  // The MRR line and its axis.
  svg.append(
    s("line", { class: "axis", x1: left, x2: width - right, y1: yLine(0), y2: yLine(0) }),
    s(
      "text",
      { class: "tick", x: left - 6, y: yLine(mrrMax) + 4, "text-anchor": "end" },
      moneyShort(mrrMax, currency),
    ),
    s("text", { class: "tick", x: left - 6, y: yLine(0) + 4, "text-anchor": "end" }, moneyShort(0, currency)),
    s("text", { class: "panel-title", x: left, y: lineTop - 14 }, "MRR at period end"),
    s("polyline", {
      class: "mrr-line",
      points: periods.map((p, i) => `${x(i).toFixed(1)},${yLine(p.mrr.end).toFixed(1)}`).join(" "),
    }),
  );
  periods.forEach((p, i) => {
    svg.append(
      s(
        "circle",
        {
          class: "mrr-dot",
          cx: x(i),
          cy: yLine(p.mrr.end),
          r: 3,
          ...metricAttributes(`retention.periods.${i}.mrr.end`, p.mrr.end, "money", currency),
        },
        title(`${p.start} – ${p.end}: MRR ${moneyShort(p.mrr.end, currency)}`),
      ),
    );
  });

  // The movements around zero.
  svg.append(
    s("text", { class: "panel-title", x: left, y: barsTop - 14 }, "Movements"),
    s("text", { class: "tick", x: left - 6, y: barsTop + 4, "text-anchor": "end" }, moneyShort(up, currency)),
    s(
      "text",
      { class: "tick", x: left - 6, y: barsTop + barsHeight + 4, "text-anchor": "end" },
      moneyShort(-down, currency),
    ),
  );
  periods.forEach((p, i) => {
    let above = zero;
    let below = zero;
    for (const movement of MOVEMENTS) {
      const amount = p.mrr[movement.key];
      if (amount === 0) continue;
      const size = Math.abs(amount) * unit;
      const y = movement.sign > 0 ? above - size : below;
      if (movement.sign > 0) above -= size;
      else below += size;
      svg.append(
        s(
          "rect",
          {
            class: `bar ${movement.key}`,
            x: x(i) - barWidth / 2,
            y,
            width: barWidth,
            height: Math.max(size, 0.5),
            ...metricAttributes(`retention.periods.${i}.mrr.${movement.key}`, amount, "money", currency),
          },
          title(`${p.start} – ${p.end}: ${movement.label} ${moneyShort(amount, currency)}`),
        ),
      );
    }
  });
  svg.append(s("line", { class: "axis zero", x1: left, x2: width - right, y1: zero, y2: zero }));
  const step = labelStep(periods.length, plotWidth);
  periods.forEach((p, i) => {
    if (i % step !== 0) return;
    svg.append(
      s("text", { class: "tick", x: x(i), y: height - 8, "text-anchor": "middle" }, periodLabel(p, interval)),
    );
  });
  return h(
    "figure",
    { class: "chart-figure" },
    svg,
    legend(MOVEMENTS.map(({ key, label }) => ({ label, kind: key }))),
  );
}

/** Customer churn rate per period as columns; a period with no customers at its start has none. */
export function churnChart(periods: Figures[], interval: string, width: number): SVGSVGElement {
  const left = 44;
  const right = 8;
  const top = 12;
  const plotHeight = 150;
  const height = top + plotHeight + 26;
  const plotWidth = width - left - right;
  const band = plotWidth / periods.length;
  const barWidth = Math.max(1, Math.min(band * 0.7, 40));
  const max = Math.max(0.05, ...periods.map((p) => p.customer_churn_rate ?? 0)) * 1.1;
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;
  const svg = s("svg", {
    class: "chart",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": "Customer churn rate per period",
  });
  svg.append(
    s("line", { class: "axis", x1: left, x2: width - right, y1: y(0), y2: y(0) }),
    s("text", { class: "tick", x: left - 6, y: y(max) + 4, "text-anchor": "end" }, rate(max)),
    s("text", { class: "tick", x: left - 6, y: y(0) + 4, "text-anchor": "end" }, "0%"),
  );
  periods.forEach((p, i) => {
    const cx = left + band * i + band / 2;
    const value = p.customer_churn_rate;
    const attributes = metricAttributes(`retention.periods.${i}.customer_churn_rate`, value, "rate");
    if (value === null) {
      svg.append(
        s("text", { class: "tick missing", x: cx, y: y(0) - 4, "text-anchor": "middle", ...attributes }, "–"),
      );
      return;
    }
    svg.append(
      s(
        "rect",
        {
          class: "bar churn",
          x: cx - barWidth / 2,
          y: y(value),
          width: barWidth,
          height: Math.max(y(0) - y(value), 0.5),
          ...attributes,
        },
        title(
          `${p.start} – ${p.end}: ${rate(value)} (${p.customers.lost_from_start} of ${p.customers.start})`,
        ),
      ),
    );
  });
  const step = labelStep(periods.length, plotWidth);
  periods.forEach((p, i) => {
    if (i % step !== 0) return;
    svg.append(
      s(
        "text",
        { class: "tick", x: left + band * i + band / 2, y: height - 8, "text-anchor": "middle" },
        periodLabel(p, interval),
      ),
    );
  });
  return svg;
}

export interface Bar {
  label: string;
  /** What the bar's length is. */
  value: number;
  /** The figure written beside the bar. */
  text: string;
  metric: string;
  format: FigureFormat;
  currency?: string;
  kind?: string;
  /** A smaller note under the label ("involuntary"). */
  aside?: string;
}

/** Horizontal bars, one row each: label, bar (its length relative to the longest), figure. */
export function barList(bars: Bar[], ariaLabel: string): HTMLElement {
  const max = Math.max(1, ...bars.map((bar) => Math.abs(bar.value)));
  return h(
    "div",
    { class: "bar-list", role: "list", "aria-label": ariaLabel },
    ...bars.map((bar) =>
      h(
        "div",
        { class: "bar-row", role: "listitem" },
        h("span", { class: "bar-label" }, bar.label, bar.aside ? h("small", {}, ` ${bar.aside}`) : null),
        s(
          "svg",
          { class: "bar-track", viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true" },
          s("rect", {
            class: `bar ${bar.kind ?? "plain"}`,
            x: 0,
            y: 0,
            height: 10,
            width: ((Math.abs(bar.value) / max) * 100).toFixed(2),
          }),
        ),
        h(
          "span",
          { class: "figure bar-value", ...metricAttributes(bar.metric, bar.value, bar.format, bar.currency) },
          bar.text,
        ),
      ),
    ),
  );
}

export interface Whisker {
  label: string;
  lift: number;
  low: number;
  high: number;
  /** `data-metric` prefix of the estimate (`campaigns.campaigns.0.steps.0.lift.1.absolute`). */
  metric: string;
}

/**
 * Dots with their intervals on one axis centred on zero (no lift), in percentage points, each row
 * named above its whisker (a hover title alone is never seen on a touch screen).
 */
export function liftChart(whiskers: Whisker[], width: number): SVGSVGElement {
  const left = 8;
  const right = 8;
  const rowHeight = 38;
  const top = 8;
  const height = top + whiskers.length * rowHeight + 22;
  const reach = Math.max(0.01, ...whiskers.flatMap((w) => [Math.abs(w.low), Math.abs(w.high)])) * 1.1;
  const plotWidth = width - left - right;
  const x = (value: number) => left + ((value + reach) / (2 * reach)) * plotWidth;
  const svg = s("svg", {
    class: "chart lift",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": "Absolute lift against the holdout with its 95% interval",
  });
  svg.append(
    s("line", { class: "axis zero", x1: x(0), x2: x(0), y1: top - 4, y2: height - 18 }),
    s("text", { class: "tick", x: x(0), y: height - 4, "text-anchor": "middle" }, "0"),
    s("text", { class: "tick", x: left, y: height - 4 }, `−${(reach * 100).toFixed(1)} pp`),
    s(
      "text",
      { class: "tick", x: width - right, y: height - 4, "text-anchor": "end" },
      `+${(reach * 100).toFixed(1)} pp`,
    ),
  );
  whiskers.forEach((w, i) => {
    const rowTop = top + i * rowHeight;
    const cy = rowTop + 22;
    const kind = w.low > 0 ? "up" : w.high < 0 ? "down" : "flat";
    svg.append(
      s("text", { class: "tick whisker-label", x: left, y: rowTop + 13 }, w.label),
      s("line", {
        class: `whisker ${kind}`,
        x1: x(w.low),
        x2: x(w.high),
        y1: cy,
        y2: cy,
        ...metricAttributes(`${w.metric}.low`, w.low, "points"),
      }),
      s("line", { class: `whisker-end ${kind}`, x1: x(w.low), x2: x(w.low), y1: cy - 5, y2: cy + 5 }),
      s("line", { class: `whisker-end ${kind}`, x1: x(w.high), x2: x(w.high), y1: cy - 5, y2: cy + 5 }),
      s(
        "circle",
        {
          class: `lift-dot ${kind}`,
          cx: x(w.lift),
          cy,
          r: 4.5,
          ...metricAttributes(`${w.metric}.lift`, w.lift, "points"),
        },
        title(
          `${w.label}: ${(w.lift * 100).toFixed(1)} pp (${(w.low * 100).toFixed(1)} to ${(w.high * 100).toFixed(1)})`,
        ),
      ),
    );
  });
  return svg;
}
