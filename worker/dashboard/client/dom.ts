/**
 * Building the page's elements without HTML strings (the CSP allows no inline script, and nothing
 * the API answers is ever parsed as markup): `h` for HTML, `s` for SVG, `figure` for a number the
 * page shows, tagged with the API field it came from.
 */

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined>;

function apply(element: Element, attributes: Attributes, children: Child[]): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
}

/** An HTML element. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attributes, children);
  return element;
}

/** An SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  apply(element, attributes, children);
  return element;
}

/** How a figure is written: the browser test reads the text back by this. */
export type FigureFormat = "count" | "money" | "rate" | "points" | "instant" | "text";

/**
 * The attributes that tie what the page shows to the API: `data-metric` is the answer's field, as
 * `<source>.<path>` (`retention.total.mrr.end`, `cancellations.by_reason.0.mrr_lost`), and
 * `data-value` its value as JSON.
 */
export function metricAttributes(
  metric: string,
  value: unknown,
  format: FigureFormat,
  currency?: string,
): Attributes {
  return {
    "data-metric": metric,
    "data-value": JSON.stringify(value),
    "data-format": format,
    "data-currency": currency,
  };
}

/** A number shown as text, with the field it came from. */
export function figure(
  text: string,
  metric: string,
  value: unknown,
  format: FigureFormat,
  currency?: string,
): HTMLSpanElement {
  return h("span", { class: "figure", ...metricAttributes(metric, value, format, currency) }, text);
}

/**
 * A table: a header row and body rows of cells (strings or elements). `records` tables turn into
 * stacked records on a phone, each cell labelled by its column.
 */
export function table(
  caption: string,
  head: string[],
  rows: Child[][],
  numeric: number[] = [],
  records = false,
): HTMLElement {
  const align = (index: number) => (numeric.includes(index) ? "num" : undefined);
  return h(
    "div",
    { class: records ? "table-wrap records" : "table-wrap" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...head.map((text, i) => h("th", { scope: "col", class: align(i) }, text)))),
      h(
        "tbody",
        {},
        ...rows.map((cells) =>
          h("tr", {}, ...cells.map((cell, i) => h("td", { class: align(i), "data-label": head[i] }, cell))),
        ),
      ),
    ),
  );
}

/** A plain sentence in place of a chart: no data, or why there is none. */
export function note(text: string, kind: "empty" | "error" = "empty"): HTMLParagraphElement {
  return h("p", { class: `note ${kind}` }, text);
}

/** A few headline figures in a row: label over value. */
export function headline(items: { label: string; value: HTMLElement }[]): HTMLElement {
  return h(
    "dl",
    { class: "headline" },
    ...items.map(({ label, value }) => h("div", {}, h("dt", {}, label), h("dd", {}, value))),
  );
}
