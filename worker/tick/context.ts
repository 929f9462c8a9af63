/**
 * What one tick carries through every programme: the bindings, its scheduled time, the compiled
 * ruleset, the query budget and the report it fills in. `env.DB` is the budget itself (a counting
 * D1 handle), so whatever a programme queries through it, or hands it to, is counted.
 */
import type { Ruleset } from "../../dsl";
import type { Env } from "../env";
import type { QueryBudget } from "./budget";
import type { DryRunEffects } from "./dry-run";
import type { TickReport } from "./report";

export interface TickContext {
  /** The bindings, with `DB` the tick's counted handle (`budget`). */
  readonly env: Env;
  /** The tick's "now": controller.scheduledTime, or the admin tick's `at`. */
  readonly now: number;
  /** The ruleset the entry point chose (runTick's `ruleset`): every programme and offer uses it. */
  readonly ruleset: Ruleset;
  readonly budget: QueryBudget;
  readonly report: TickReport;
  /** Customers per audience page. */
  readonly audiencePageSize: number;
  /**
   * A dry run's recorder (`POST /v1/admin/tick {"dry_run": true}`), null for a real tick. Every
   * programme takes the same path either way; only the write sites branch on it (dry-run.ts).
   */
  readonly dryRun: DryRunEffects | null;
  /**
   * A sharded campaign unit (a rebound-ticks message): when it pauses, its own message continues it
   * a second later, so it keeps the lease its last page renewed instead of releasing it; otherwise
   * the next tick's resume would take the run over while the continuation is on its way, and the two
   * would take turns.
   */
  readonly continued?: boolean;
}

/** A `customers` row as `SELECT c.*` returns it (attributes still JSON text). */
export type CustomerRowJson = Record<string, unknown> & { id: string };
