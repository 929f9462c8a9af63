/**
 * The message templates of the ruleset this Worker was built with.
 */
import { messageCatalogOf } from "./catalog";
import type { MessageCatalog } from "./render";

const catalog = messageCatalogOf([]);

/** The deployed ruleset's message catalog. */
export function deployedMessageCatalog(): MessageCatalog {
  return catalog;
}
