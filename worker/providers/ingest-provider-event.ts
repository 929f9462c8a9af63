/**
 * Writes the Rebound events of one provider event through ingest, exactly as `POST /v1/events` does
 * (schema → worker/ingest/normalize.ts → worker/ingest/write-events.ts), so ingest's guarantees hold:
 * idempotent by event id (a redelivery is a duplicate), order independent, all or nothing. Then counts
 * the delivery by provider, type, outcome and day (counts.ts).
 *
 * Whatever the content, the answer to the provider is 200 with the outcome: a provider retries any
 * other answer for days, and no retry would turn an unmapped plan or an event the rules refuse into
 * one Rebound can store. Such a delivery is held instead (held.ts), raw body and all, until a replay
 * under rules that map it stores it; the counts show every outcome (docs/providers.md).
 *
 * Stage: last step of a provider webhook, after verify.ts and the mapping.
 */
import type { Ruleset } from "../../dsl";
import type { ErrorDetail } from "../errors";
import { validateEvent } from "../generated/validators.js";
import { normalizeEvents, normalizeOptions } from "../ingest/normalize";
import { SealedEventsError, writeEvents } from "../ingest/write-events";
import { countProviderEvent } from "./counts";
import { customerOf, holdStatement, isHeldOutcome, releaseStatement } from "./held";
import type { Mapped, MappingRules, Outcome, Provider } from "./mapping";

/** What a delivery did: the webhook route's answer. */
export interface ProviderIngestResult {
  outcome: Outcome;
  /** Rebound events stored for the first time. */
  events: number;
  /** Rebound events already stored (a redelivery). */
  duplicates: number;
  /** Why an event was refused or not mapped. */
  details: ErrorDetail[];
  /**
   * For `unmapped_plan`, `unmapped_reason` and `rejected`: whether the delivery is held for replay
   * (false when it names no customer or its customer was erased).
   */
  held?: boolean;
}

const rulesCache = new WeakMap<Ruleset, { mapping: MappingRules; reasons: readonly string[] }>();

/** What mapping reads from a ruleset, derived once per ruleset (ingest's own checks: `normalizeOptions`). */
export function providerRules(ruleset: Ruleset): { mapping: MappingRules; reasons: readonly string[] } {
  let rules = rulesCache.get(ruleset);
  if (!rules) {
    const { reasons, plans } = normalizeOptions(ruleset);
    rules = { mapping: { billing: ruleset.ir.billing, plans }, reasons };
    rulesCache.set(ruleset, rules);
  }
  return rules;
}

/**
 * Ingests one mapped provider event, holds it when nothing could be stored (or releases it from the
 * hold when it now is), and counts the delivery. `payload` is the verified raw body.
 */
export async function ingestProviderEvent(
  db: D1Database,
  provider: Provider,
  mapped: Mapped,
  ruleset: Ruleset,
  receivedAt: number,
  payload: string,
): Promise<ProviderIngestResult> {
  const result = await writeMapped(db, mapped, ruleset, receivedAt);
  if (result.outcome === "rejected") {
    console.warn(
      JSON.stringify({
        level: "warn",
        event: "provider_event_rejected",
        provider,
        provider_event_id: mapped.providerEventId,
        provider_type: mapped.providerType,
        details: result.details,
      }),
    );
  }
  const count = countProviderEvent(db, provider, mapped.providerType, result.outcome, receivedAt);
  if (!isHeldOutcome(result.outcome)) {
    await db.batch([releaseStatement(db, provider, mapped.providerEventId), count]);
    return result;
  }
  const customerId = customerOf(mapped);
  if (customerId === null) {
    await count.run();
    return { ...result, held: false };
  }
  const hold = await holdStatement(db, {
    provider,
    mapped,
    customerId,
    outcome: result.outcome,
    details: result.details,
    payload,
    at: receivedAt,
  });
  const [held] = await db.batch([hold, count]);
  return { ...result, held: (held?.meta.changes ?? 0) > 0 };
}

/**
 * Writes the events of one mapped provider event through ingest (nothing for an unmapped one) and
 * says what came of it. Neither counts nor holds: the delivery (above) and a replay (replay.ts) do.
 */
export async function writeMapped(
  db: D1Database,
  mapped: Mapped,
  ruleset: Ruleset,
  receivedAt: number,
): Promise<ProviderIngestResult> {
  if (mapped.events.length === 0) {
    const details = (mapped.unmapped ?? []).map((id) => ({
      path: "",
      message:
        mapped.outcome === "unmapped_plan"
          ? `price or plan \`${id}\` maps to no plan of the rules (add it under \`billing.plans\`)`
          : `cancellation feedback \`${id}\` maps to no reason and the rules set no \`billing.default_reason\``,
    }));
    return { outcome: mapped.outcome ?? "ignored", events: 0, duplicates: 0, details };
  }
  const details: ErrorDetail[] = [];
  mapped.events.forEach((event, index) => {
    if (!validateEvent(event)) {
      for (const error of validateEvent.errors ?? []) {
        details.push({
          path: `/events/${index}${error.instancePath}`,
          message: error.message ?? "is invalid",
        });
      }
    }
  });
  if (details.length > 0) return { outcome: "rejected", events: 0, duplicates: 0, details };
  const normalized = normalizeEvents(
    mapped.events.map((event, index) => ({ event, at: `/events/${index}` })),
    normalizeOptions(ruleset),
  );
  if (normalized.details.length > 0) {
    return { outcome: "rejected", events: 0, duplicates: 0, details: normalized.details };
  }
  try {
    const written = await writeEvents(db, normalized.events, receivedAt, ruleset);
    const duplicates = written.duplicateIds.length + normalized.duplicateIdsInRequest.length;
    const outcome: Outcome =
      written.accepted > 0 ? "ingested" : written.erasedIds.length > 0 ? "erased" : "duplicate";
    return { outcome, events: written.accepted, duplicates, details: [] };
  } catch (error) {
    if (!(error instanceof SealedEventsError)) throw error;
    return {
      outcome: "sealed",
      events: 0,
      duplicates: 0,
      details: [{ path: "", message: "dated in days whose raw events are archived; not stored" }],
    };
  }
}
