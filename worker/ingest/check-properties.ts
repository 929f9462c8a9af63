/**
 * The shape checks an event's `properties` get before anything walks them recursively: how deep its
 * objects and arrays nest, and whether every name and string in it is well-formed text. Part of
 * ingest stage 2 (worker/ingest/normalize.ts), run on each schema-valid event first.
 *
 * The JSON Schemas cannot bound the depth of a free-form value (an `x.*` event's properties), and
 * JSON.parse builds one a million levels deep from a 1 MiB body; canonical JSON and JSON.stringify
 * recurse, so such a value would end in `RangeError: Maximum call stack size exceeded`. This walk is
 * iterative and stops at the first level past the limit, so its cost is bounded by the body size.
 */

import type { ErrorDetail } from "../errors";
import { REQUEST_LIMITS } from "../limits";

// With the u flag a string is read as code points, so only a surrogate without its partner matches.
const LONE_SURROGATE = /\p{Cs}/u;

/** One value still to look at, linked to its parent so a path is built only for a problem. */
interface Visit {
  readonly value: unknown;
  readonly depth: number;
  readonly parent: Visit | null;
  readonly key: string;
}

/**
 * Problems of one event's `properties`, at most one of each kind:
 * - objects and arrays nested more than `REQUEST_LIMITS.maxPropertiesDepth` levels inside
 *   `properties` (the detail points at `properties` itself, e.g. `/events/3/properties`);
 * - the first name or string holding a lone UTF-16 surrogate (`"\ud800"` sent as a JSON escape), which
 *   no UTF-8 text can carry: SQLite would store it as invalid UTF-8 and read it back as something
 *   else, so the profile and the stored event would disagree. Refused like a lone surrogate in an id.
 *
 * @param at the JSON Pointer of the properties object, e.g. `/events/3/properties`
 * @example propertiesProblems(JSON.parse('{"a":[{"b":"\\ud800"}]}'), "/properties")
 *   // [{ path: "/properties/a/0/b", message: "is not well-formed text: …" }]
 */
export function propertiesProblems(properties: unknown, at: string): ErrorDetail[] {
  const maxDepth = REQUEST_LIMITS.maxPropertiesDepth;
  const pending: Visit[] = [{ value: properties, depth: 0, parent: null, key: "" }];
  let badText: ErrorDetail | null = null;
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    const { value, depth } = visit;
    if (typeof value === "string") {
      if (!badText && LONE_SURROGATE.test(value)) {
        badText = { path: at + pointer(visit), message: LONE_SURROGATE_MESSAGE };
      }
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    if (depth > maxDepth) {
      return [
        {
          path: at,
          message: `nests objects and arrays more than ${maxDepth} levels deep; at most ${maxDepth} are allowed`,
        },
      ];
    }
    const keys = Object.keys(value);
    // Pushed last to first, so the first problem in document order is the one reported.
    for (let index = keys.length - 1; index >= 0; index--) {
      const key = keys[index]!;
      const child: Visit = {
        value: (value as Record<string, unknown>)[key],
        depth: depth + 1,
        parent: visit,
        key,
      };
      if (!badText && !Array.isArray(value) && LONE_SURROGATE.test(key)) {
        badText = { path: at + pointer(child), message: `has a name that ${LONE_SURROGATE_MESSAGE}` };
      }
      pending.push(child);
    }
  }
  return badText ? [badText] : [];
}

const LONE_SURROGATE_MESSAGE =
  "is not well-formed text: it holds a lone UTF-16 surrogate (e.g. \\ud800 without its pair)";

/** The JSON Pointer of `visit` below the properties object (`""` for the object itself). */
function pointer(visit: Visit): string {
  const segments: string[] = [];
  for (let at: Visit | null = visit; at?.parent; at = at.parent) {
    segments.push(at.key.replaceAll("~", "~0").replaceAll("/", "~1"));
  }
  return segments.length === 0 ? "" : `/${segments.reverse().join("/")}`;
}
