/**
 * Renders a send's message from its template and the variables snapshotted when it was enqueued,
 * using the rule language's template engine (dsl/rules/template.ts). The consumer calls this just before
 * delivery; a template that cannot render makes the send dead with the reason, never a blank email.
 */
import { parseTemplate, renderTemplate } from "../../dsl";
import type { JsonValue, TemplateVariables } from "./types";

/** A message template as the ruleset carries it (dsl/rules/ruleset.ts MessageIR). */
export interface MessageTemplate {
  key: string;
  subject: string | null;
  body: string;
}

/** Looks message templates up by key: the compiled ruleset's messages. */
export type MessageCatalog = ReadonlyMap<string, MessageTemplate>;

/** A rendered message, or why it could not be rendered. */
export type RenderResult =
  | { ok: true; subject: string; text: string; html: string | null }
  | { ok: false; error: string };

/**
 * Renders `messageKey` from `catalog` with `variables`. `company_name` falls back to the deployment's
 * COMPANY_NAME, and a template without a subject gets the company name as its subject.
 *
 * @example
 * renderMessage(catalog, "dunning_day_0", { first_name: "Ada", card_last4: "4242" }, "Acme")
 * // → { ok: true, subject: "Your payment did not go through", text: "Hi Ada, …", html: null }
 */
export function renderMessage(
  catalog: MessageCatalog,
  messageKey: string,
  variables: TemplateVariables,
  companyName: string,
): RenderResult {
  const template = catalog.get(messageKey);
  if (!template) return { ok: false, error: `message "${messageKey}" is not in the ruleset` };
  const values: Record<string, string | null> = { company_name: companyName };
  for (const [name, value] of Object.entries(variables)) values[name] = textOf(value);

  const subject = template.subject === null ? { text: companyName } : renderText(template.subject, values);
  if ("error" in subject) return { ok: false, error: `message "${messageKey}" subject: ${subject.error}` };
  const body = renderText(template.body, values);
  if ("error" in body) return { ok: false, error: `message "${messageKey}" body: ${body.error}` };
  return { ok: true, subject: subject.text.trim(), text: body.text, html: null };
}

function renderText(
  source: string,
  values: Record<string, string | null>,
): { text: string } | { error: string } {
  const { template, diagnostics } = parseTemplate(source);
  const syntax = diagnostics.find((diagnostic) => diagnostic.code === "template_syntax");
  if (syntax) return { error: syntax.message };
  return { text: renderTemplate(template, values) };
}

function textOf(value: JsonValue): string | null {
  if (value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
