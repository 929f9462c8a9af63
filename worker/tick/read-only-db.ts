/**
 * The dry run's guard rails: a D1 handle that runs only SELECT statements, and a queue and bucket
 * that refuse every call. A dry tick (worker/tick/dry-run.ts) branches at each write site and never
 * issues a write; these make that a property of the handles it holds rather than of every branch,
 * so a write site a future change forgets to branch fails the dry run loudly instead of writing.
 *
 * Flow: runTick (dry) → QueryBudget(ReadOnlyD1(env.DB)) → every programme's reads.
 */

/** A write reached the dry run's handles: a bug in the dry run, never a partial write. */
export class DryRunWriteError extends Error {
  constructor(what: string) {
    super(`a dry run tried to write (${what}); nothing was written`);
    this.name = "DryRunWriteError";
  }
}

/** The first keyword of a statement, past whitespace, comments and opening parentheses. */
function leadingKeyword(sql: string): string {
  const text = sql.replace(/^(?:\s|\(|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, "");
  return (/^[A-Za-z]+/.exec(text)?.[0] ?? "").toUpperCase();
}

/** SQLite cannot write from a statement that starts with SELECT (a WITH may lead to an INSERT). */
function refuseWrite(sql: string): void {
  if (leadingKeyword(sql) !== "SELECT") throw new DryRunWriteError(sql.trim().slice(0, 80));
}

class ReadOnlyStatement implements D1PreparedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly sql: string,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new ReadOnlyStatement(this.inner.bind(...values), this.sql);
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  async first<T>(colName?: string): Promise<T | null> {
    refuseWrite(this.sql);
    return colName === undefined ? this.inner.first<T>() : this.inner.first<T>(colName);
  }

  async run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    refuseWrite(this.sql);
    return this.inner.run<T>();
  }

  async all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    refuseWrite(this.sql);
    return this.inner.all<T>();
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  async raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[] | [string[], ...T[]]> {
    refuseWrite(this.sql);
    return options?.columnNames === true
      ? this.inner.raw<T>({ columnNames: true })
      : this.inner.raw<T>({ columnNames: false });
  }
}

/** A D1 handle that answers reads and refuses writes (before they reach D1). */
export class ReadOnlyD1 implements D1Database {
  constructor(private readonly inner: D1Database) {}

  prepare(query: string): D1PreparedStatement {
    return new ReadOnlyStatement(this.inner.prepare(query), query);
  }

  async batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    const platform = statements.map((statement) => {
      if (!(statement instanceof ReadOnlyStatement))
        throw new DryRunWriteError("a statement of another handle");
      return statement;
    });
    // Each statement checks itself as it is unwrapped: a batch is refused whole, before D1 sees it.
    return Promise.all(platform.map((statement) => statement.all<T>()));
  }

  async exec(query: string): Promise<D1ExecResult> {
    throw new DryRunWriteError(query.trim().slice(0, 80));
  }

  withSession(): D1DatabaseSession {
    throw new DryRunWriteError("a D1 session");
  }

  /** @deprecated D1's dump() only applies to alpha databases. */
  async dump(): Promise<ArrayBuffer> {
    throw new DryRunWriteError("dump");
  }
}

/** A queue producer that refuses to publish. */
export const REFUSING_QUEUE: Queue<unknown> = {
  metrics: () => Promise.reject(new DryRunWriteError("queue metrics (a dry run uses no queue)")),
  send: () => Promise.reject(new DryRunWriteError("a queue message")),
  sendBatch: () => Promise.reject(new DryRunWriteError("queue messages")),
};
