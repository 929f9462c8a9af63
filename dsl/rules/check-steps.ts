/**
 * Checking a programme step: a message and/or an offer, sent on a day of a sequence or after a delay,
 * in the contexts its message and offer allow. Every scheduled section below reads its steps here.
 *
 * Stage: part of check, used by the programme sections (check-inactivity.ts, check-dunning.ts,
 * check-card-expiry.ts, check-winback.ts, check-campaigns.ts).
 */

import { LIMITS } from "../limits";
import { closest } from "../suggest";
import { type CheckContext, contextOf, MAX_DAY, type References } from "./check-context";
import type { YamlNode } from "./load";
import type { Reader } from "./reader";
import type { StepIR } from "./ruleset";

/** A step: message and/or offer, day or delay. `dayKey` says which timing field it uses. */
export function readStep(
  c: CheckContext,
  node: YamlNode,
  reader: Reader,
  refs: References,
  timing: "day" | "after" | "none",
  by: string,
  extra: readonly string[] = [],
): (StepIR & { fields: Map<string, YamlNode> }) | undefined {
  const map = reader.map(node, "a step");
  if (!map) return undefined;
  const allowed = [...(timing === "none" ? [] : [timing]), "message", "offer", "fallback_message", ...extra];
  const fields = reader.fields(map, `a step of ${by}`, allowed, timing === "day" ? ["day"] : []);
  const step: StepIR & { fields: Map<string, YamlNode> } = {
    day: null,
    afterMs: null,
    message: null,
    offer: null,
    fallbackMessage: null,
    fields,
  };
  let ok = true;
  const dayNode = fields.get("day");
  if (timing === "day" && dayNode) {
    const day = reader.integer(dayNode, "`day`", 0, MAX_DAY);
    if (day === undefined) ok = false;
    else step.day = day;
  }
  const afterNode = fields.get("after");
  if (timing === "after") {
    step.afterMs = 0;
    if (afterNode) {
      const after = reader.duration(afterNode, "`after`", LIMITS.maxDurationMs);
      if (after === undefined) ok = false;
      else step.afterMs = after;
    }
  }
  const offerNode = fields.get("offer");
  if (offerNode) {
    const offer = reader.key(offerNode, "`offer`");
    if (offer === undefined) ok = false;
    else if (offer !== "best" && !refs.offerKeys.has(offer)) {
      const suggestion = closest(offer, [...refs.offerKeys, "best"]);
      reader.fail(
        offerNode,
        "unknown_offer",
        `unknown offer \`${offer}\``,
        suggestion ? `did you mean \`${suggestion}\`?` : "use `best` or an offer key",
      );
      ok = false;
    } else step.offer = offer;
  }
  const messageNode = fields.get("message");
  if (messageNode) {
    step.message = c.useMessage(
      messageNode,
      reader,
      refs.messageKeys,
      offerNode ? "offer" : contextOf(by),
      by,
    );
    if (step.message === null) ok = false;
  }
  const fallbackNode = fields.get("fallback_message");
  if (fallbackNode) {
    if (!offerNode) {
      reader.fail(
        fallbackNode,
        "schema_violation",
        "`fallback_message` is sent when the step's offer yields none: the step has no `offer`",
      );
      ok = false;
    }
    step.fallbackMessage = c.useMessage(
      fallbackNode,
      reader,
      refs.messageKeys,
      contextOf(by),
      `${by} (no offer)`,
    );
    if (step.fallbackMessage === null) ok = false;
  }
  if (
    !messageNode &&
    !offerNode &&
    !map.pairs.some((p) => p.key.value === "message" || p.key.value === "offer")
  ) {
    reader.fail(map, "schema_violation", `a step of ${by} needs a \`message\` or an \`offer\``);
    ok = false;
  }
  return ok ? step : undefined;
}
