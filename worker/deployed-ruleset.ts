/**
 * The one place the Worker reads the ruleset it was built with (worker/generated/ruleset.ts, written
 * by `rebound build`), compiled once per isolate. Like the clock (worker/clock.ts), the ruleset is
 * chosen at the entry points — the HTTP app (worker/api/app.ts, once per request, on the Hono
 * context), the scheduled tick (worker/tick/index.ts) and the queue consumer (worker/queue/index.ts)
 * — and passed down; nothing below them asks this module, so tests hand any checked ruleset in.
 * No request ever parses or compiles a rule.
 */
import { loadRuleset, type Ruleset } from "../dsl";
import { ruleset as generatedRuleset } from "./generated/ruleset";

let deployed: Ruleset | null = null;

/** The deployed ruleset, compiled on first use in this isolate (later calls return the same one). */
export function deployedRuleset(): Ruleset {
  deployed ??= loadRuleset(generatedRuleset);
  return deployed;
}
