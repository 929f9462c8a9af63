/**
 * Copying one customer's rows from its old shard to its new one, and checking the copy: the rows are
 * read once from the old shard (fenced, so they cannot change), written to the new one through its
 * `arriving` fence, read back, and compared table by table by row count and a SHA-256 digest of the
 * rows computed here (not by either database).
 */
import { customerKey } from "../customer-key";
import { closeFence, openFence, throughOpenFence } from "./fences";
import { CUSTOMER_TABLES, type CustomerTable, type Row } from "./tables";

/** Bytes of JSON one insert statement carries (one bound parameter; D1 allows 2 MB per value). */
const MAX_PAGE_BYTES = 500_000;

/** A customer's rows, by table name. */
export type CustomerRows = Map<string, Row[]>;

/** One table's size and digest. */
export interface TableDigest {
  readonly rows: number;
  readonly digest: string;
}

/** Reads every row of the customer from every per-customer table (one batch). */
export async function readCustomerRows(db: D1Database, customerId: string): Promise<CustomerRows> {
  const pseudonym = await customerKey(customerId);
  const results = await db.batch<Row>(
    CUSTOMER_TABLES.map((table) =>
      db
        .prepare(
          `SELECT * FROM ${table.name} WHERE ${table.customerColumn} = ?1 ORDER BY ${table.key.join(", ")}`,
        )
        .bind(table.byPseudonym ? pseudonym : customerId),
    ),
  );
  const rows: CustomerRows = new Map();
  CUSTOMER_TABLES.forEach((table, index) => {
    rows.set(table.name, results[index]?.results ?? []);
  });
  return rows;
}

/** Row count and digest of each table of a customer's rows. */
export async function digestRows(rows: CustomerRows): Promise<Map<string, TableDigest>> {
  const digests = new Map<string, TableDigest>();
  for (const [name, tableRows] of rows) {
    const canonical = JSON.stringify(
      tableRows.map((row) =>
        Object.keys(row)
          .sort()
          .map((column) => [column, row[column]]),
      ),
    );
    const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
    const digest = [...new Uint8Array(hash)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
    digests.set(name, { rows: tableRows.length, digest });
  }
  return digests;
}

/** The tables whose count or digest differ between the two sides (none: the copy is exact). */
export function differingTables(old: Map<string, TableDigest>, copy: Map<string, TableDigest>): string[] {
  return CUSTOMER_TABLES.map((table) => table.name).filter((name) => {
    const a = old.get(name);
    const b = copy.get(name);
    return a?.rows !== b?.rows || a?.digest !== b?.digest;
  });
}

/**
 * Writes the customer's rows into the new shard in one batch (one transaction): open the arriving
 * fence, `INSERT OR REPLACE` each table's rows in pages of one bound JSON array, close the fence.
 * Rerunning it after a crash writes the same rows again; every insert requires the open fence, so it
 * writes nothing once the customer has been switched.
 */
export async function copyCustomerRows(
  db: D1Database,
  customerId: string,
  rows: CustomerRows,
): Promise<void> {
  const statements = [openFence(db, customerId, "arriving")];
  for (const table of CUSTOMER_TABLES) {
    for (const page of pages(rows.get(table.name) ?? []))
      statements.push(insertPage(db, table, customerId, page));
  }
  statements.push(closeFence(db, customerId));
  await db.batch(statements);
}

function insertPage(
  db: D1Database,
  table: CustomerTable,
  customerId: string,
  page: Row[],
): D1PreparedStatement {
  const columns = Object.keys(page[0] ?? {});
  const names = columns.map((column) => `"${column}"`).join(", ");
  const values = columns.map((column) => `json_extract(r.value, '$."${column}"')`).join(", ");
  return db
    .prepare(
      `INSERT OR REPLACE INTO ${table.name} (${names})
       SELECT ${values} FROM json_each(?1) AS r WHERE ${throughOpenFence("?2", "arriving")}`,
    )
    .bind(JSON.stringify(page), customerId);
}

/** Splits rows into pages whose JSON stays within MAX_PAGE_BYTES. */
function pages(rows: Row[]): Row[][] {
  const out: Row[][] = [];
  let page: Row[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = JSON.stringify(row).length + 1;
    if (page.length > 0 && bytes + size > MAX_PAGE_BYTES) {
      out.push(page);
      page = [];
      bytes = 0;
    }
    page.push(row);
    bytes += size;
  }
  if (page.length > 0) out.push(page);
  return out;
}

/**
 * Statements that delete every row of the customer, children first, each only through the open
 * fence of `state` (to be wrapped in openFence … closeFence).
 */
export async function deleteCustomerRows(
  db: D1Database,
  customerId: string,
  state: "moved" | "arriving",
): Promise<D1PreparedStatement[]> {
  const pseudonym = await customerKey(customerId);
  return [...CUSTOMER_TABLES]
    .reverse()
    .map((table) =>
      db
        .prepare(
          `DELETE FROM ${table.name} WHERE ${table.customerColumn} = ?2 AND ${throughOpenFence("?1", state)}`,
        )
        .bind(customerId, table.byPseudonym ? pseudonym : customerId),
    );
}
