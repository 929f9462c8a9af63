/**
 * CSV export of the metrics lists (`?format=csv`): RFC 4180 text with a header row, CRLF line ends
 * and quoted cells where needed, and every text cell guarded against spreadsheet formula injection.
 *
 * Stage: HTTP answer rendering for worker/api/routes/metrics-cohorts.ts; the rows come from
 * worker/metrics/lists.ts and the cohort readers, already free of recipient addresses.
 */

/** A cell value as the lists produce it. Numbers and booleans are written as they are. */
export type CsvValue = string | number | boolean | null;

/** One column of an export: its header and how a row's cell is read. */
export interface CsvColumn<Row> {
  readonly header: string;
  readonly cell: (row: Row) => CsvValue;
}

/**
 * Characters a spreadsheet may take as the start of a formula (OWASP, "CSV Injection"): `=`, `+`,
 * `-`, `@`, and tab and carriage return, which some spreadsheets strip before looking.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell: text that starts like a formula gets a leading `'` so a spreadsheet shows it as text
 * (OWASP's recommendation); then RFC 4180 quoting (a cell with a comma, a quote, CR or LF is wrapped
 * in quotes, its quotes doubled). Numbers are never guarded: `-5` is a number, not a formula.
 *
 * @example csvCell("=HYPERLINK(\"x\")") // "\"'=HYPERLINK(\"\"x\"\")\""
 * @example csvCell(-5) // "-5"
 */
export function csvCell(value: CsvValue): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

/**
 * A CSV document: the header row, then one line per row, each line ended by CRLF (RFC 4180 §2).
 *
 * @example csvDocument([{ header: "id", cell: (r) => r.id }], [{ id: "cus_1" }]) // "id\r\ncus_1\r\n"
 */
export function csvDocument<Row>(columns: readonly CsvColumn<Row>[], rows: readonly Row[]): string {
  const lines = [columns.map((column) => csvCell(column.header)).join(",")];
  for (const row of rows) lines.push(columns.map((column) => csvCell(column.cell(row))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
