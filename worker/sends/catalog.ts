/**
 * The message catalog the consumer renders from: the compiled ruleset's templates, keyed by
 * message key.
 */
import type { MessageCatalog, MessageTemplate } from "./render";

/** Indexes a ruleset's messages (RulesetIR.messages) by key. */
export function messageCatalogOf(messages: readonly MessageTemplate[]): MessageCatalog {
  return new Map(messages.map((message) => [message.key, message]));
}
