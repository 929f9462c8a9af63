/**
 * Message templates: `{{ variable }}` and `{{ variable | default: "text" }}` inside a message's
 * subject and body, the catalog of variables, and which sending context provides which of them.
 *
 * Stage: parsed and checked by dsl/rules/check.ts (a variable its context cannot provide is an error);
 * parsed again once when a ruleset is loaded (dsl/runtime/ruleset.ts), and rendered through
 * `renderTemplate` by the one message renderer, dsl/runtime/messages.ts (decisions and sends alike).
 * No code runs inside a template: only variable substitution with an optional literal fallback.
 */
import type { ExprDiagnostic } from "../errors";

/** Where a message is sent from; each context guarantees a set of variables. */
export type MessageContext = "offer" | "plain" | "dunning" | "card_expiry";

/** Every variable a template may name, with the contexts that can provide it. */
export const TEMPLATE_VARIABLES: Readonly<
  Record<string, { description: string; contexts: readonly MessageContext[] }>
> = Object.freeze({
  first_name: { description: "The customer's first name (may be empty: give a default)", contexts: all() },
  email: { description: "The customer's email address", contexts: all() },
  plan: { description: "The customer's plan", contexts: all() },
  company_name: { description: "Your company's name (COMPANY_NAME)", contexts: all() },
  offer_amount: {
    description: 'What the offer gives, e.g. "$20 off", "50% off for 3 months", "a 45-minute session"',
    contexts: ["offer"],
  },
  offer_description: { description: "The reward's description from the rules", contexts: ["offer"] },
  offer_expires_at: { description: "When the offer expires, as a date", contexts: ["offer"] },
  decision_id: {
    description:
      "The decision that made the offer (dec_…), for the link that accepts it: POST /v1/offers/{decision_id}/accept",
    contexts: ["offer"],
  },
  card_last4: { description: "Last four digits of the card on file", contexts: ["dunning", "card_expiry"] },
  update_url: { description: "The update-payment link", contexts: ["dunning", "card_expiry"] },
  failed_amount: { description: "The amount of the failed payment", contexts: ["dunning"] },
  card_expires_at: { description: "When the card expires, as a date", contexts: ["card_expiry"] },
});

function all(): MessageContext[] {
  return ["offer", "plain", "dunning", "card_expiry"];
}

/** A literal piece of text or a variable slot; offsets are relative to the template text. */
export type TemplatePart =
  | { readonly kind: "text"; readonly text: string }
  | {
      readonly kind: "variable";
      readonly name: string;
      readonly fallback: string | null;
      /** Span of the variable's name, for errors. */
      readonly start: number;
      readonly end: number;
    };

export interface ParsedTemplate {
  readonly parts: readonly TemplatePart[];
}

const SLOT = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default\s*:\s*"((?:[^"\\]|\\.)*)"\s*)?$/;

/**
 * Parses a template. Unclosed or malformed `{{ }}` slots and unknown variable names are reported
 * with spans relative to `text`; the result is still usable for the slots that parsed.
 *
 * @example parseTemplate('Hi {{ first_name | default: "there" }}').parts
 */
export function parseTemplate(text: string): { template: ParsedTemplate; diagnostics: ExprDiagnostic[] } {
  const parts: TemplatePart[] = [];
  const diagnostics: ExprDiagnostic[] = [];
  let position = 0;
  while (position < text.length) {
    const open = text.indexOf("{{", position);
    if (open === -1) {
      parts.push({ kind: "text", text: text.slice(position) });
      break;
    }
    if (open > position) parts.push({ kind: "text", text: text.slice(position, open) });
    const close = text.indexOf("}}", open + 2);
    const nextOpen = text.indexOf("{{", open + 2);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
      diagnostics.push({
        code: "template_syntax",
        message: "`{{` is not closed by `}}`",
        span: { start: open, end: open + 2 },
      });
      position = close === -1 ? text.length : close + 2;
      continue;
    }
    const inner = text.slice(open + 2, close);
    const match = SLOT.exec(inner);
    if (!match) {
      diagnostics.push({
        code: "template_syntax",
        message: 'a slot is `{{ variable }}` or `{{ variable | default: "text" }}`',
        span: { start: open, end: close + 2 },
      });
    } else {
      const name = match[1]!;
      const start = open + 2 + inner.indexOf(name);
      const fallback = match[2] === undefined ? null : match[2].replace(/\\(.)/g, "$1");
      if (!(name in TEMPLATE_VARIABLES)) {
        diagnostics.push({
          code: "unknown_template_variable",
          message: `\`${name}\` is not a template variable`,
          span: { start, end: start + name.length },
          hint: `variables: ${Object.keys(TEMPLATE_VARIABLES).join(", ")}`,
        });
      }
      parts.push({ kind: "variable", name, fallback, start, end: start + name.length });
    }
    position = close + 2;
  }
  return { template: { parts }, diagnostics };
}

/** Whether a variable can be provided in a context. */
export function variableAvailable(name: string, context: MessageContext): boolean {
  return TEMPLATE_VARIABLES[name]?.contexts.includes(context) ?? false;
}

/**
 * The variables a template shows as nothing: no value (absent, null or empty) and no default. In
 * template order, each once.
 *
 * @example emptyVariables(parseTemplate("card ending in {{ card_last4 }}"), {}) // ["card_last4"]
 */
export function emptyVariables(
  template: ParsedTemplate,
  variables: Readonly<Record<string, string | null | undefined>>,
): string[] {
  const empty: string[] = [];
  for (const part of template.parts) {
    if (part.kind === "text" || part.fallback !== null || empty.includes(part.name)) continue;
    const value = variables[part.name];
    if (value === null || value === undefined || value === "") empty.push(part.name);
  }
  return empty;
}

/**
 * Renders a template. A variable with no value (absent, null or empty) renders as its default, or
 * as an empty string when it has none; values are inserted as text, never interpreted.
 */
export function renderTemplate(
  template: ParsedTemplate,
  variables: Readonly<Record<string, string | null | undefined>>,
): string {
  let out = "";
  for (const part of template.parts) {
    if (part.kind === "text") out += part.text;
    else {
      const value = variables[part.name];
      out += value === null || value === undefined || value === "" ? (part.fallback ?? "") : value;
    }
  }
  return out;
}
