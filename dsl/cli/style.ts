/**
 * Terminal styling for the CLI: ANSI colour only when writing to a TTY (and NO_COLOR is unset), so
 * piped output and CI logs stay plain.
 *
 * Stage: CLI output (dsl/cli/*).
 */

export interface Style {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const wrap = (code: number, reset: number) => (text: string) => `\u001b[${code}m${text}\u001b[${reset}m`;

const COLOUR: Style = {
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};

const identity = (text: string) => text;
const PLAIN: Style = {
  red: identity,
  green: identity,
  yellow: identity,
  cyan: identity,
  dim: identity,
  bold: identity,
};

/** Colour when `stream` is a terminal and the user has not asked for none. */
export function styleFor(stream: { isTTY?: boolean }): Style {
  return stream.isTTY && !process.env.NO_COLOR ? COLOUR : PLAIN;
}

export const plainStyle = PLAIN;
