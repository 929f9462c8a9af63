/**
 * Checking message templates, and that every variable a template uses is available in every context
 * the message is sent from (an offer message may use offer_amount; a plain one may not).
 *
 * Stage: part of check; templates are read early, their uses checked last.
 */

import { LIMITS } from "../limits";
import { type CheckContext, contextDescription } from "./check-context";
import type { YamlScalar } from "./load";
import type { MessageIR } from "./ruleset";
import { parseTemplate, TEMPLATE_VARIABLES, variableAvailable } from "./template";

export function readMessages(c: CheckContext): MessageIR[] {
  const messages: MessageIR[] = [];
  for (const entry of c.limit(c.mapEntries("messages"), LIMITS.maxMessages, "messages")) {
    c.declared.messages.push(entry.key);
    c.definitions.messages.set(entry.key, entry);
    const { reader } = entry;
    const map = reader.map(entry.value, `message \`${entry.key}\``);
    if (!map) continue;
    const fields = reader.fields(
      map,
      `message \`${entry.key}\``,
      ["subject", "body", "channel", "description"],
      ["body"],
    );
    const parts: { scalar: YamlScalar; variables: { name: string; start: number; end: number }[] }[] = [];
    const text = (name: "subject" | "body"): string | null => {
      const node = fields.get(name);
      if (!node) return null;
      const value = reader.string(node, `\`${name}\``);
      if (value === undefined) return null;
      const parsed = parseTemplate(value);
      for (const d of parsed.diagnostics)
        reader.inside(node as YamlScalar, d.span, d.code, d.message, d.hint);
      const variables = parsed.template.parts.flatMap((p) =>
        p.kind === "variable" && p.name in TEMPLATE_VARIABLES ? [p] : [],
      );
      parts.push({ scalar: node as YamlScalar, variables });
      return value;
    };
    const subject = text("subject");
    const body = text("body");
    let channel: MessageIR["channel"] = null;
    const channelNode = fields.get("channel");
    if (channelNode) {
      const value = reader.string(channelNode, "`channel`");
      if (value === "email" || value === "in_app" || value === "webhook") channel = value;
      else if (value !== undefined)
        reader.fail(channelNode, "schema_violation", "`channel` is email, in_app or webhook");
    }
    c.messageTemplates.set(entry.key, { reader, parts });
    if (body !== null) messages.push({ key: entry.key, channel, subject, body });
  }
  return messages;
}

/** Every template variable must be available in every context its message is sent from. */
export function checkTemplateVariables(c: CheckContext): void {
  const reported = new Set<string>();
  for (const use of c.messageUses) {
    const template = c.messageTemplates.get(use.message);
    if (!template) continue;
    for (const part of template.parts) {
      for (const variable of part.variables) {
        if (variableAvailable(variable.name, use.context)) continue;
        const id = `${use.message}:${part.scalar.start}:${variable.start}`;
        if (reported.has(id)) continue;
        reported.add(id);
        template.reader.inside(
          part.scalar,
          { start: variable.start, end: variable.end },
          "unknown_template_variable",
          `\`${variable.name}\` is not available: message \`${use.message}\` is sent by ${use.by}, ${contextDescription(use.context)}`,
          `sent from ${use.reader.where(use.node)}; \`${variable.name}\` is available in ${TEMPLATE_VARIABLES[variable.name]!.contexts.map(contextDescription).join(" / ")}`,
        );
      }
    }
  }
}
