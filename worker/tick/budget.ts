/**
 * The tick's D1 query budget: every module that queries counts its statements here, and a long
 * run checks `exhausted()` between pages so the invocation stays under the platform's limit. A
 * paused run keeps its place (cursor) and the next tick resumes it.
 */
import { TICK_LIMITS } from "./limits";

export class QueryBudget {
  private used = 0;
  /** D1 rows read by everything counted so far. */
  rowsRead = 0;

  constructor(private readonly limit: number = TICK_LIMITS.queryBudget) {}

  /** Counts `queries` statements and the rows they read. */
  spend(queries: number, rowsRead = 0): void {
    this.used += queries;
    this.rowsRead += rowsRead;
  }

  /** True when fewer than `reserve` queries are left. */
  exhausted(reserve = 40): boolean {
    return this.used + reserve > this.limit;
  }

  get queries(): number {
    return this.used;
  }
}
