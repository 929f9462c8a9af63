/**
 * The tick's D1 query budget: the database handle the tick holds. runTick wraps `env.DB` in one at
 * its start and passes it down as `env.DB`, so every statement any module issues for the tick
 * (campaigns, audiences, dunning, lifecycle, claims, decisions, sends) is counted where it is issued
 * (worker/db/counted.ts). A long run checks `exhausted()` between pages so the invocation stays under
 * the platform's limit; a paused run keeps its place (cursor) and the next tick resumes it.
 */
import { CountedD1 } from "../db/counted";
import { TICK_LIMITS } from "./limits";

export class QueryBudget extends CountedD1 {
  constructor(
    db: D1Database,
    private readonly limit: number = TICK_LIMITS.queryBudget,
  ) {
    super(db);
  }

  /** True when fewer than `reserve` queries are left. */
  exhausted(reserve = 40): boolean {
    return this.queries + reserve > this.limit;
  }
}
