/**
 * Explaining YAML indentation mistakes. The YAML parser reports them in its own terms ("Nested
 * mappings are not allowed in compact mappings", "All mapping items must start at the same
 * column"), often at the line before the one that is out of place. This finds the line whose
 * indentation does not fit the block it sits in and says so in the author's terms: which key, how
 * many spaces, and how many its siblings have.
 *
 * Stage: part of load (dsl/rules/load.ts), for the errors the parser gives for bad indentation.
 */

/** The yaml library's error codes that indentation mistakes produce. */
export const INDENTATION_ERROR_CODES: ReadonlySet<string> = new Set([
  "BAD_INDENT",
  "TAB_AS_INDENT",
  "BLOCK_AS_IMPLICIT_KEY",
  "MULTILINE_IMPLICIT_KEY",
  "MISSING_CHAR",
]);

/** A line out of place: where its content starts, and what to say about it. */
export interface IndentationProblem {
  /** Offset of the first character of the misplaced line's content. */
  start: number;
  end: number;
  message: string;
  hint: string;
}

export const INDENTATION_HINT =
  "YAML nests by indentation: every key of one mapping starts at the same column, indented with spaces (not tabs), deeper than the key it belongs to";

interface Line {
  number: number;
  /** Offset of the first character after the indentation. */
  start: number;
  indent: number;
  content: string;
  /** Whether a tab is part of the indentation. */
  tab: boolean;
}

/**
 * The first line at or after `fromOffset`'s line whose indentation fits no open block, or
 * undefined when every line fits (the error is about something else).
 */
export function indentationProblem(text: string, fromOffset: number): IndentationProblem | undefined {
  const fromLine = lineNumberAt(text, fromOffset);
  // Open blocks, innermost last: the column their keys (or `-` items) start at, and the latest key.
  const levels: { indent: number; key: string }[] = [{ indent: 0, key: "" }];
  let opens = false;
  let previous: Line | undefined;
  // Where the previous line's key starts (after the dash of a list item).
  let previousColumn = 0;
  let blockScalar: { indent: number; key: string; lines: number } | null = null;
  let flowDepth = 0;
  for (const line of contentLines(text)) {
    if (blockScalar !== null && line.indent > blockScalar.indent) {
      blockScalar.lines += 1;
      continue;
    }
    if (blockScalar?.lines === 0 && keyOf(line.content) === null && line.number >= fromLine) {
      return {
        start: line.start,
        end: line.start + line.content.length,
        message: `the text of \`${blockScalar.key}\` is not indented under it`,
        hint: `indent the lines of a block text (after \`|\` or \`>\`) deeper than \`${blockScalar.key}\`, e.g. ${blockScalar.indent + 2} spaces`,
      };
    }
    blockScalar = null;
    if (flowDepth > 0) {
      flowDepth += bracketBalance(line.content);
      continue;
    }
    if (line.tab) {
      if (line.number < fromLine) continue;
      return {
        start: line.start - line.indent,
        end: line.start,
        message: `line ${line.number} is indented with a tab`,
        hint: "indent with spaces: YAML does not allow tabs for indentation",
      };
    }
    while (levels.length > 1 && levels.at(-1)!.indent > line.indent) levels.pop();
    const top = levels.at(-1)!;
    const key = keyOf(line.content);
    const name = `\`${key ?? line.content}\``;
    const span = { start: line.start, end: line.start + Math.max(1, (key ?? line.content).length) };
    if (line.indent > top.indent && !opens) {
      // Deeper than the block allows: before the error, a plain scalar's continuation line.
      if (line.number < fromLine || !previous) continue;
      const previousKey = keyOf(previous.content);
      if (line.indent > previousColumn) {
        return {
          ...span,
          message: `${name} is indented ${spaces(line.indent)}, more than ${previousKey ? `\`${previousKey}\`` : "the line"} above it (${previousColumn}), which already has a value`,
          hint: `keys of one mapping start at the same column: indent ${name} ${spaces(previousColumn)} like the line above, or, to nest it there, leave nothing after the colon on the line above`,
        };
      }
      return {
        ...span,
        message: `${name} is indented ${spaces(line.indent)}, between the keys around it (${top.key ? `\`${top.key}\` at ` : ""}${top.indent}, ${previousKey ? `\`${previousKey}\` at ` : ""}${previousColumn})`,
        hint: `keys of one mapping start at the same column: indent ${name} exactly like the keys it belongs with`,
      };
    }
    const item = /^(-\s+)(.*)$/.exec(line.content);
    // A list's own level is named by its dash; a `- key: value` item's keys start after the dash.
    const levelKey = item ? "-" : (key ?? "");
    if (line.indent > top.indent) levels.push({ indent: line.indent, key: levelKey });
    else top.key = levelKey || top.key;
    const rest = item ? item[2]! : line.content;
    if (item && keyOf(rest) !== null)
      levels.push({ indent: line.indent + item[1]!.length, key: keyOf(rest)! });
    opens = /:\s*(#.*)?$/.test(rest) || /^-\s*(#.*)?$/.test(line.content);
    if (/:\s*[|>][-+0-9]*\s*(#.*)?$/.test(rest))
      blockScalar = {
        indent: item ? line.indent + item[1]!.length : line.indent,
        key: keyOf(rest) ?? "",
        lines: 0,
      };
    flowDepth = Math.max(0, bracketBalance(rest));
    previous = line;
    previousColumn = item && keyOf(rest) !== null ? line.indent + item[1]!.length : line.indent;
  }
  return undefined;
}

/** Opening minus closing brackets outside quotes: above zero, a flow collection continues. */
function bracketBalance(content: string): number {
  let depth = 0;
  let quote: string | null = null;
  for (const char of content) {
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === "#") break;
    else if (char === "{" || char === "[") depth += 1;
    else if (char === "}" || char === "]") depth -= 1;
  }
  return depth;
}

function keyOf(content: string): string | null {
  const match = /^([^\s:#'"{[-][^:#]*?):(\s|$)/.exec(content.replace(/^-\s+/, ""));
  return match ? match[1]!.trim() : null;
}

function spaces(count: number): string {
  return `${count} space${count === 1 ? "" : "s"}`;
}

/** Lines with content (not blank, not only a comment), with their indentation in spaces. */
function contentLines(text: string): Line[] {
  const lines: Line[] = [];
  let offset = 0;
  text.split("\n").forEach((raw, index) => {
    const indent = raw.length - raw.replace(/^[ \t]+/, "").length;
    const content = raw.slice(indent).replace(/\r$/, "");
    if (content.trim() !== "" && !content.startsWith("#") && content !== "---") {
      const tab = raw.slice(0, indent).includes("\t");
      lines.push({ number: index + 1, start: offset + indent, indent, content, tab });
    }
    offset += raw.length + 1;
  });
  return lines;
}

function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line += 1;
  return line;
}
