/**
 * Checks the names of a request's query parameters: a parameter a route does not know, or one given
 * twice, is an error, never silently ignored (a typo such as `?contxt=` must not fall back to a
 * default). Routes check the values themselves.
 *
 * Stage: HTTP, in a route's request parsing, before anything is read or decided.
 */
import type { ErrorDetail } from "../errors";

/**
 * The problems with the query parameter names of `url`: one detail (`?name`) per unknown or repeated
 * parameter, in the order they first appear.
 *
 * @example queryParameterProblems("https://x/v1/a?context=in_app&foo=1", ["context"])
 *   // [{ path: "?foo", message: "is not a parameter of this route; use context" }]
 */
export function queryParameterProblems(url: string, allowed: readonly string[]): ErrorDetail[] {
  const counts = new Map<string, number>();
  for (const name of new URL(url).searchParams.keys()) counts.set(name, (counts.get(name) ?? 0) + 1);
  const problems: ErrorDetail[] = [];
  for (const [name, count] of counts) {
    if (!allowed.includes(name)) {
      problems.push({
        path: `?${name}`,
        message: `is not a parameter of this route; use ${allowed.join(", ")}`,
      });
    } else if (count > 1) {
      problems.push({ path: `?${name}`, message: `is given ${count} times; give it once` });
    }
  }
  return problems;
}

/** The values a yes/no query parameter such as `?explain` takes, by what they mean. */
const FLAG_VALUES: ReadonlyMap<string, boolean> = new Map([
  ["1", true],
  ["true", true],
  ["0", false],
  ["false", false],
]);

/**
 * The problem with the value of the yes/no parameter `name` of `url`, if any: a value outside
 * 1, true, 0, false (`?explain=yes`) must not silently mean "no".
 *
 * @example flagProblems("https://x/v1/decisions?explain=yes", "explain")
 *   // [{ path: "?explain", message: "must be 1, true, 0 or false" }]
 */
export function flagProblems(url: string, name: string): ErrorDetail[] {
  const value = new URL(url).searchParams.get(name);
  if (value === null || FLAG_VALUES.has(value)) return [];
  return [{ path: `?${name}`, message: "must be 1, true, 0 or false" }];
}

/** The value of the yes/no parameter `name` of `url` (false when absent); check it with `flagProblems`. */
export function flagValue(url: string, name: string): boolean {
  const value = new URL(url).searchParams.get(name);
  return value !== null && FLAG_VALUES.get(value) === true;
}
