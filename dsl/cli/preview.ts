/**
 * `rebound preview <message>`: renders one message template for one customer at one moment, as the
 * campaign consumer would send it. With `--offer [name]` the message carries the offer the rules
 * decide (in `--context`, for `--reason`), exactly as a step with an offer does.
 *
 * Variables that render as nothing (no value in the customer file, no default in the template) are
 * named on stderr; with `--strict` they make the preview fail (exit 1), for scripts and CI.
 *
 * Stage: CLI over dsl/runtime/decide.ts and dsl/runtime/messages.ts.
 */

import { OFFER_CONTEXTS, type OfferContext } from "../rules/ruleset";
import { decideOffer } from "../runtime/decide";
import { emptyMessageVariables, renderMessage } from "../runtime/messages";
import { closest } from "../suggest";
import { type Args, type Command, type Io, UsageError } from "./command";
import { readCustomerFile } from "./customer-file";
import { loadRulesOrFail, reportDiagnostics } from "./load-rules";
import { styleFor } from "./style";

export const previewCommand: Command = {
  name: "preview",
  synopsis:
    "preview <message> --customer <file> --at <time> [--offer [name]] [--context <context>]\n" +
    "        [--reason <reason>] [--company <name>] [--strict] [--dir <dir>]",
  summary: "render a message for one customer",
  options: {
    customer: { type: "string" },
    at: { type: "string" },
    offer: { type: "string" },
    context: { type: "string" },
    reason: { type: "string" },
    company: { type: "string" },
    strict: { type: "boolean" },
    dir: { type: "string" },
  },
  optionalValues: ["offer"],
  optionHelp: [
    ["--customer <file>", "the customer (YAML: the customer, or {customer, events, history})"],
    ["--at <time>", 'the moment: 2026-03-01T12:00:00Z, now, "10d ago", "in 3d"'],
    ["--offer [name]", "carry the offer the rules decide; with a name, that offer alone"],
    ["--context <context>", "where the offer is asked for (default: cancel_flow)"],
    ["--reason <reason>", "the cancellation reason"],
    ["--company <name>", "the company name in the message (default: $COMPANY_NAME or Acme Analytics)"],
    ["--strict", "fail (exit 1) when a variable renders empty"],
    ["--dir <dir>", "the rule directory (default: rules)"],
  ],
  run: preview,
};

function preview(args: Args, json: boolean, io: Io): number {
  const messageKey = args.positional[1];
  const file = args.options.get("customer");
  const atText = args.options.get("at");
  if (!messageKey || typeof file !== "string" || typeof atText !== "string") {
    throw new UsageError("preview needs <message> --customer <file> --at <time>");
  }
  const loaded = loadRulesOrFail(String(args.options.get("dir") ?? "rules"));
  if (reportDiagnostics(loaded, json, io)) return 1;
  const ruleset = loaded.ruleset!;
  if (!ruleset.messages.has(messageKey)) {
    const suggestion = closest(messageKey, ruleset.messages.keys());
    throw new UsageError(
      `unknown message \`${messageKey}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ""}`,
    );
  }
  const input = readCustomerFile(ruleset, file, atText);
  const offerOption = args.options.get("offer");
  const context = String(args.options.get("context") ?? "cancel_flow");
  if (!OFFER_CONTEXTS.includes(context as OfferContext))
    throw new UsageError(`--context is one of ${OFFER_CONTEXTS.join(", ")}`);
  const reason = args.options.get("reason");
  const decision =
    offerOption === undefined
      ? null
      : decideOffer(ruleset, input.ctx, {
          context: context as OfferContext,
          reason: typeof reason === "string" ? reason : null,
          history: input.history,
          ...(typeof offerOption === "string" ? { only: [offerOption] } : {}),
        });
  const messageInput = {
    customer: input.ctx.customer,
    companyName: String(args.options.get("company") ?? process.env.COMPANY_NAME ?? "Acme Analytics"),
    offer: decision?.offer ?? null,
    // No decision is stored by a preview: show where the real id goes.
    decisionId: decision?.offer ? "dec_preview" : null,
  };
  const rendered = renderMessage(ruleset, messageKey, messageInput);
  const empty = emptyMessageVariables(ruleset, messageKey, messageInput);
  const code = empty.length > 0 && args.options.get("strict") === true ? 1 : 0;
  if (json) {
    io.out(
      `${JSON.stringify({ message: rendered, empty_variables: empty, offer: decision ? { key: decision.offer?.key ?? null, reason_code: decision.reasonCode } : null }, null, 2)}\n`,
    );
    return code;
  }
  const style = styleFor({ isTTY: io.isTTY });
  if (empty.length > 0) {
    const names = empty.map((name) => `{{ ${name} }}`).join(", ");
    const say = code === 1 ? style.red : style.yellow;
    io.err(
      say(
        `rendered empty: ${names} (no value for this customer and no default; give the customer file a value, or the template a default such as {{ ${empty[0]} | default: "…" }})\n`,
      ),
    );
  }
  if (decision && !decision.offer)
    io.err(
      style.yellow(`no offer (${decision.reasonCode}): ${decision.why}; offer variables render empty\n`),
    );
  if (rendered.subject !== null) io.out(`${style.bold("Subject:")} ${rendered.subject}\n\n`);
  io.out(`${rendered.body}${rendered.body.endsWith("\n") ? "" : "\n"}`);
  return code;
}
