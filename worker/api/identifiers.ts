/**
 * What an id chosen by the client may be (a customer id, an event id, an invoice id), wherever the
 * API takes one: in a body, in the URL path or in a query parameter.
 *
 * The rule itself is one JSON Schema, worker/api/schemas/id.schema.json: 1 to
 * `REQUEST_LIMITS.maxIdLength` UTF-16 code units of well-formed text, no control character, no
 * whitespace at either end. Body schemas `$ref` it; path and query ids run its build-time compiled
 * validator here, so the three places cannot drift apart. Ids appear in logs, CSV exports and URLs,
 * where a blank id, a control character or an invisible trailing space would hide or change it.
 *
 * Stage: HTTP, in a route's request parsing, before anything is read or decided.
 */
import type { ErrorObject } from "ajv";
import type { Context } from "hono";
import { routePath } from "hono/route";
import type { ErrorDetail } from "../errors";
import { validateId } from "../generated/validators.js";
import { REQUEST_LIMITS } from "../limits";

/** How body schemas refer to the id rule (`{"$ref": "id.json"}`); ajv's schemaPath starts with it. */
export const ID_SCHEMA_REF = "id.json";

/** What a client is told about an id that breaks the rule, wherever it was given. */
export const ID_PROBLEM = `is not a valid id: 1 to ${REQUEST_LIMITS.maxIdLength} characters, no control characters, no whitespace at the start or end`;

/**
 * The problem with an id taken from the URL (`path:id`, `?customer_id`), if any.
 *
 * @example idProblems(" ", "path:id") // [{ path: "path:id", message: ID_PROBLEM }]
 * @example idProblems("cus_42", "?customer_id") // []
 */
export function idProblems(id: string, path: string): ErrorDetail[] {
  return validateId(id) ? [] : [{ path, message: ID_PROBLEM }];
}

/**
 * The `:id` of a route's URL path, decoded, with its problems. Hono hands back a segment whose
 * percent-encoding does not decode to UTF-8 (`%FF`, `%ED%A0%80`) as it was written, which would
 * make `/customers/%FF` and `/customers/%25FF` the same customer: such a segment is refused here.
 *
 * @example pathId(c) // { id: "cus_42", problems: [] } for GET /v1/customers/cus_42
 */
export function pathId(c: Context): { id: string; problems: ErrorDetail[] } {
  const id = c.req.param("id") ?? "";
  const index = routePath(c).split("/").indexOf(":id");
  const raw = new URL(c.req.url).pathname.split("/")[index] ?? "";
  return { id, problems: encodingProblems(raw, "path:id") ?? idProblems(id, "path:id") };
}

/** A problem when `raw` (as written in the URL) is not percent-encoded UTF-8, else null. */
function encodingProblems(raw: string, path: string): ErrorDetail[] | null {
  try {
    decodeURIComponent(raw.replaceAll("+", " "));
    return null;
  } catch {
    return [{ path, message: `${ID_PROBLEM} (its percent-encoding is not UTF-8)` }];
  }
}

/**
 * Whether an ajv error is the id rule refusing a string (too short, too long, a character it may
 * not have), which worker/api/validation.ts words as `ID_PROBLEM`. A value that is not a string at
 * all keeps ajv's "must be string".
 */
export function isIdRuleError(error: ErrorObject): boolean {
  return error.schemaPath.startsWith(`${ID_SCHEMA_REF}/`) && error.keyword !== "type";
}

/**
 * The `?customer_id=` filter of an admin listing (sends, outbox, dunning cases): null when absent.
 * A given one must be a valid id, an empty one included: `?customer_id=` must not quietly list every
 * customer. A problem is added to `problems`, which the route answers with as a 400.
 *
 * @example customerFilter(c, problems) // "cus_42" for ?customer_id=cus_42, problems unchanged
 */
export function customerFilter(c: Context, problems: ErrorDetail[]): string | null {
  const text = c.req.query("customer_id");
  if (text === undefined) return null;
  const raw = /[?&]customer_id=([^&]*)/.exec(new URL(c.req.url).search)?.[1] ?? "";
  problems.push(...(encodingProblems(raw, "?customer_id") ?? idProblems(text, "?customer_id")));
  return text;
}
