/**
 * Diagnostics for people and for CI: `file:line:col error[code]: message`, the source line with a
 * caret underline, and a hint; or the same as JSON (`--format json`).
 *
 * Stage: CLI output. Reads the rule files' text to show excerpts.
 */
import type { Diagnostic } from "../errors";
import type { Style } from "./style";

/**
 * Formats diagnostics like a compiler:
 *
 * ```
 * rules/winback.yaml:12:18 error[type_mismatch]: `ltv` is money, compared with text "500"
 *    12 |   when: ltv >= "500"
 *       |                ^^^^^
 * ```
 */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  texts: ReadonlyMap<string, string>,
  style: Style,
): string {
  return diagnostics.map((d) => formatDiagnostic(d, texts.get(d.file), style)).join("\n");
}

function formatDiagnostic(d: Diagnostic, text: string | undefined, style: Style): string {
  const severity =
    d.severity === "error" ? style.red(`error[${d.code}]`) : style.yellow(`warning[${d.code}]`);
  const lines = [`${style.bold(`${d.file}:${d.line}:${d.column}`)} ${severity}: ${d.message}`];
  const sourceLine = text?.split("\n")[d.line - 1];
  if (sourceLine !== undefined) {
    const gutter = String(d.line).length + 1;
    const pad = " ".repeat(gutter);
    const visible = sourceLine.replace(/\r$/, "");
    const start = Math.min(d.column - 1, visible.length);
    const end =
      d.endLine === d.line ? Math.max(d.endColumn - 1, start + 1) : Math.max(visible.length, start + 1);
    const underline = " ".repeat(start) + "^".repeat(Math.max(1, end - start));
    lines.push(`${style.dim(` ${String(d.line).padStart(gutter)} |`)} ${visible}`);
    lines.push(`${style.dim(` ${pad} |`)} ${style.red(underline)}`);
  }
  if (d.hint) lines.push(`${style.dim(" = hint:")} ${d.hint}`);
  return `${lines.join("\n")}\n`;
}

/** The JSON form CI reads: stable keys, one object per diagnostic. */
export function diagnosticsJson(diagnostics: readonly Diagnostic[]): object[] {
  return diagnostics.map((d) => ({
    file: d.file,
    line: d.line,
    column: d.column,
    end_line: d.endLine,
    end_column: d.endColumn,
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.hint ? { hint: d.hint } : {}),
  }));
}
