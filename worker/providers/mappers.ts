/**
 * Each provider's mapping, by provider: what the webhook route applies to a verified delivery and
 * what a replay (replay.ts) applies to a held one.
 *
 * Stage: mapping, between verify.ts (or the hold) and ingest-provider-event.ts.
 */
import { mapChargebeeEvent } from "./chargebee";
import type { Mapped, MappingRules, Provider } from "./mapping";
import { mapPaddleEvent } from "./paddle";
import { mapStripeEvent } from "./stripe";

export type Mapper = (payload: unknown, rules: MappingRules, reasons: readonly string[]) => Mapped;

export const MAPPERS: Readonly<Record<Provider, Mapper>> = Object.freeze({
  stripe: mapStripeEvent,
  paddle: mapPaddleEvent,
  chargebee: mapChargebeeEvent,
});
