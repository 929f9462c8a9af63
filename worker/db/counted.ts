/**
 * A D1 handle that counts what goes through it: every statement it issues (alone, in a batch, or in
 * `exec`) and the rows D1 reports it read. It implements D1Database, so whoever it is handed to
 * (plain prepare/bind/run, a batch, drizzle's D1 driver and its prepared statements) is counted
 * without knowing it. The tick holds one as its query budget (worker/tick/budget.ts) and passes it
 * down in place of `env.DB`.
 *
 * Rows read come from each result's `meta.rows_read`. `first()` is run as `all()` (what D1 itself
 * does) so its rows are counted too; `raw()` and `exec()` return no meta: their statements are
 * counted, their rows read are not.
 */

/** What a counted handle has issued so far. */
interface Tally {
  queries: number;
  rowsRead: number;
}

function addRows(tally: Tally, result: { meta?: { rows_read?: number } } | undefined): void {
  const rows = result?.meta?.rows_read;
  if (typeof rows === "number") tally.rowsRead += rows;
}

/** A prepared statement of a counted handle: each run (run, all, first, raw) is one statement. */
class CountedStatement implements D1PreparedStatement {
  constructor(
    /** The platform's statement, what `batch` hands to D1. */
    readonly inner: D1PreparedStatement,
    private readonly tally: Tally,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new CountedStatement(this.inner.bind(...values), this.tally);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  async first<T>(colName?: string): Promise<T | null> {
    // D1's first() queries every row and keeps the first, but drops the meta; all() keeps it.
    const { results } = await this.all<Record<string, unknown>>();
    const row = results[0];
    if (row === undefined) return null;
    if (colName === undefined) return row as T;
    if (row[colName] === undefined) {
      throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${colName})`, {
        cause: new Error("Column not found"),
      });
    }
    return row[colName] as T;
  }

  async run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    this.tally.queries += 1;
    const result = await this.inner.run<T>();
    addRows(this.tally, result);
    return result;
  }

  async all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    this.tally.queries += 1;
    const result = await this.inner.all<T>();
    addRows(this.tally, result);
    return result;
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[] | [string[], ...T[]]> {
    this.tally.queries += 1;
    return options?.columnNames === true
      ? this.inner.raw<T>({ columnNames: true })
      : this.inner.raw<T>({ columnNames: false });
  }
}

function prepareCounted(
  db: D1Database | D1DatabaseSession,
  tally: Tally,
  query: string,
): D1PreparedStatement {
  return new CountedStatement(db.prepare(query), tally);
}

async function batchCounted<T>(
  db: D1Database | D1DatabaseSession,
  tally: Tally,
  statements: D1PreparedStatement[],
): Promise<D1Result<T>[]> {
  // D1 reads its own statement objects: hand it the platform's statement behind each counted one.
  const platform = statements.map((statement) =>
    statement instanceof CountedStatement ? statement.inner : statement,
  );
  tally.queries += platform.length;
  const results = await db.batch<T>(platform);
  for (const result of results) addRows(tally, result);
  return results;
}

/** A session of a counted handle (D1 read replication): counted into the same tally. */
class CountedSession implements D1DatabaseSession {
  constructor(
    private readonly inner: D1DatabaseSession,
    private readonly tally: Tally,
  ) {}

  prepare(query: string): D1PreparedStatement {
    return prepareCounted(this.inner, this.tally, query);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return batchCounted<T>(this.inner, this.tally, statements);
  }

  getBookmark(): D1SessionBookmark | null {
    return this.inner.getBookmark();
  }
}

/**
 * Wraps `db` so every statement issued through it is counted.
 *
 * @example
 * const db = new CountedD1(env.DB);
 * await drizzle(db).select().from(apiKeys);
 * db.queries; // 1
 */
export class CountedD1 implements D1Database {
  private readonly tally: Tally = { queries: 0, rowsRead: 0 };

  constructor(private readonly inner: D1Database) {}

  /** Statements issued so far (a batch counts each of its statements). */
  get queries(): number {
    return this.tally.queries;
  }

  /** D1 rows read by those statements, as D1 reported them. */
  get rowsRead(): number {
    return this.tally.rowsRead;
  }

  prepare(query: string): D1PreparedStatement {
    return prepareCounted(this.inner, this.tally, query);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return batchCounted<T>(this.inner, this.tally, statements);
  }

  async exec(query: string): Promise<D1ExecResult> {
    try {
      const result = await this.inner.exec(query);
      this.tally.queries += result.count;
      return result;
    } catch (error) {
      // Which statements ran before the failure is not reported: at least one was issued.
      this.tally.queries += 1;
      throw error;
    }
  }

  withSession(constraintOrBookmark?: D1SessionBookmark | D1SessionConstraint): D1DatabaseSession {
    return new CountedSession(this.inner.withSession(constraintOrBookmark), this.tally);
  }

  /** @deprecated D1's dump() only applies to alpha databases. */
  dump(): Promise<ArrayBuffer> {
    this.tally.queries += 1;
    return this.inner.dump();
  }
}
