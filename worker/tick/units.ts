/**
 * The units a sharded tick fans out (docs/architecture.md, "A tick"): one campaign stage occurrence,
 * or one of the other programmes, on one shard. The dispatcher (dispatch.ts) puts one
 * `TickUnitMessage` per (shard, unit) on the rebound-ticks queue; the consumer (consume-units.ts)
 * runs `runTick` restricted to that unit on that shard. A unit carries the tick's `at`, so time stays
 * a parameter however late the message is consumed.
 */

/** The programmes other than campaign occurrences, each run as one unit per shard. */
export const PROGRAMME_UNITS = ["publish", "dunning", "lifecycle", "legacy_profiles", "archive"] as const;

/**
 * `publish`: sends that came due (deferred or orphaned) and campaign runs whose lease lapsed;
 * the others are the programmes of the same name in run-tick.ts.
 */
export type ProgrammeUnitName = (typeof PROGRAMME_UNITS)[number];

/** One unit of a tick on one shard. */
export type TickUnit =
  | {
      readonly kind: "campaign";
      readonly campaign: string;
      /** The occurrence as `campaign_runs.occurrence` names it (ISO 8601 UTC). */
      readonly occurrence: string;
      readonly step: string;
      readonly offset_ms: number;
    }
  | { readonly kind: "programme"; readonly programme: ProgrammeUnitName };

/** A rebound-ticks message body. */
export interface TickUnitMessage {
  readonly v: 1;
  /** The tick's scheduled time (epoch ms): the unit's "now". */
  readonly at: number;
  /** The shard index (0 is `DB`, i is `DB_<i>`). */
  readonly shard: number;
  readonly unit: TickUnit;
}

/** The claim key of a unit in `tick_units` (campaign units are claimed in `campaign_runs` instead). */
export function unitKey(unit: TickUnit): string {
  return unit.kind === "programme"
    ? unit.programme
    : `campaign/${unit.campaign}/${unit.occurrence}/${unit.step}/${unit.offset_ms}`;
}

/** Reads a rebound-ticks message body back, refusing anything else. */
export function parseTickUnitMessage(
  body: unknown,
): { ok: true; message: TickUnitMessage } | { ok: false; error: string } {
  if (typeof body !== "object" || body === null) return { ok: false, error: "message body is not an object" };
  const { v, at, shard, unit } = body as Partial<Record<keyof TickUnitMessage, unknown>>;
  if (v !== 1) return { ok: false, error: `unsupported message version ${JSON.stringify(v)}` };
  if (typeof at !== "number" || !Number.isFinite(at)) return { ok: false, error: "message has no `at`" };
  if (typeof shard !== "number" || !Number.isInteger(shard) || shard < 0)
    return { ok: false, error: "message has no shard index" };
  const parsed = parseUnit(unit);
  if (!parsed) return { ok: false, error: `message has no valid unit: ${JSON.stringify(unit)}` };
  return { ok: true, message: { v: 1, at, shard, unit: parsed } };
}

function parseUnit(unit: unknown): TickUnit | null {
  if (typeof unit !== "object" || unit === null) return null;
  const fields = unit as Record<string, unknown>;
  if (fields.kind === "programme") {
    const programme = PROGRAMME_UNITS.find((name) => name === fields.programme);
    return programme ? { kind: "programme", programme } : null;
  }
  if (
    fields.kind === "campaign" &&
    typeof fields.campaign === "string" &&
    typeof fields.occurrence === "string" &&
    typeof fields.step === "string" &&
    typeof fields.offset_ms === "number"
  ) {
    return {
      kind: "campaign",
      campaign: fields.campaign,
      occurrence: fields.occurrence,
      step: fields.step,
      offset_ms: fields.offset_ms,
    };
  }
  return null;
}
