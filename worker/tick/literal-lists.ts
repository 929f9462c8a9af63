/**
 * A D1 cost fix applied to compiled audience SQL before it runs: dsl/expr/sql.ts binds a list as
 * `IN (SELECT value FROM json_each(?))`. Under `NOT IN`, SQLite checks the list for NULL once per
 * row it rejects nothing for, and D1 bills that as a row read per customer scanned (measured:
 * 2 rows per customer instead of 1). A list of plain names or numbers is therefore inlined as
 * literals (`IN ('shutting_down', 'other')`), which costs nothing per row and means the same: the
 * list never holds NULL. Other lists stay bound.
 */
import type { SqlFragment } from "../../dsl";

const BOUND_LIST = "IN (SELECT value FROM json_each(?))";
const PLAIN_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The fragment with every bound list of plain names or finite numbers inlined as literals. */
export function inlineLiteralLists(fragment: SqlFragment): SqlFragment {
  if (!fragment.sql.includes(BOUND_LIST)) return fragment;
  let sql = "";
  const params: SqlFragment["params"][number][] = [];
  let paramIndex = 0;
  let rest = fragment.sql;
  for (;;) {
    const at = rest.indexOf(BOUND_LIST);
    const head = at === -1 ? rest : rest.slice(0, at);
    // Every `?` before the list belongs to an earlier parameter (string literals are plain names, never `?`).
    for (const char of head) {
      if (char === "?") params.push(fragment.params[paramIndex++]!);
    }
    sql += head;
    if (at === -1) break;
    const value = fragment.params[paramIndex++];
    const literals = typeof value === "string" ? literalList(value) : null;
    if (literals === null) {
      sql += BOUND_LIST;
      params.push(value!);
    } else {
      sql += `IN (${literals})`;
    }
    rest = rest.slice(at + BOUND_LIST.length);
  }
  return { sql, params };
}

function literalList(json: string): string | null {
  let items: unknown;
  try {
    items = JSON.parse(json);
  } catch {
    return null;
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > 50) return null;
  const literals: string[] = [];
  for (const item of items) {
    if (typeof item === "string" && PLAIN_NAME.test(item)) literals.push(`'${item}'`);
    else if (typeof item === "number" && Number.isFinite(item)) literals.push(String(item));
    else return null;
  }
  return literals.join(", ");
}
