/**
 * The message templates of the ruleset this Worker was built with (worker/generated/ruleset.ts,
 * written by `rebound build` before every dev start, deploy and test run).
 */
import { ruleset } from "../generated/ruleset";
import { messageCatalogOf } from "./catalog";
import type { MessageCatalog } from "./render";

// Built once per isolate: the ruleset cannot change without a new deployment.
const catalog = messageCatalogOf(ruleset.messages);

/** The deployed ruleset's message catalog. */
export function deployedMessageCatalog(): MessageCatalog {
  return catalog;
}
