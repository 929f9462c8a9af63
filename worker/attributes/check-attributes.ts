/**
 * Checks and normalizes custom attributes against the ones the rules declare (`fields:` in
 * rules/settings.yaml), the same way wherever attributes enter: `customer.updated` ingest
 * (worker/ingest/normalize.ts) and the `attributes` of a decision request
 * (worker/api/routes/decisions.ts).
 *
 * A declared attribute with a value of the wrong type would be stored or used, and the rules would
 * read it as missing, silently changing answers: it is refused with its JSON Pointer and the type
 * expected. A `timestamp` attribute is epoch milliseconds or an ISO 8601 time with a UTC offset; the
 * rules read epoch milliseconds (dsl/expr/fields.ts `customAttributeField`), so ISO is converted.
 *
 * Stage: request validation, after the JSON Schemas (worker/api/schemas/) have checked the names'
 * shape and that every value is a string, number, boolean or null.
 */

import type { ExprType, RulesetIR } from "../../dsl";
import { parseFieldType } from "../../dsl";
import { parseInstant } from "../timestamps";

/** One problem with an attribute: a JSON Pointer into the body and a sentence. */
export interface AttributeProblem {
  readonly path: string;
  readonly message: string;
}

/** A primitive attribute value, as the JSON Schemas admit it. */
export type AttributeValue = string | number | boolean | null;

/**
 * What to do with an attribute the rules do not declare:
 * - `refuse`: a problem (a decision request: an undeclared attribute cannot change one decision, so
 *   it is a typo or a misunderstanding);
 * - `keep`: kept as sent (ingest: an app may send CRM attributes before a rules change declares
 *   them, and the profile should already hold them then).
 */
export type UndeclaredAttributes = "refuse" | "keep";

/** The outcome of `checkAttributes`: the problems, and the values to use when there are none. */
export interface CheckedAttributes {
  readonly problems: AttributeProblem[];
  /**
   * The attributes with each `timestamp` in epoch milliseconds; the other values as sent. A
   * null-prototype object, so a name such as `__proto__` is kept as an ordinary key.
   */
  readonly values: Record<string, AttributeValue>;
}

/** The custom attributes `ir` declares, by name, with their types. */
export function declaredAttributes(ir: RulesetIR): Map<string, ExprType> {
  const declared = new Map<string, ExprType>();
  for (const field of ir.fields) {
    // The rules compiler already refused a type that does not parse.
    const type = parseFieldType(field.type);
    if (!("error" in type)) declared.set(field.name, type);
  }
  return declared;
}

/**
 * Checks `attributes` against `declared`. `null` always fits: it removes the attribute (ingest) or
 * makes it missing (one decision).
 *
 * @param path the JSON Pointer of the attributes object, e.g. `/events/0/properties/attributes`
 * @example checkAttributes(declared, { seats: "twelve" }, { path: "/attributes", undeclared: "refuse" })
 *   // { problems: [{ path: "/attributes/seats", message: "must be a number (declared number)" }], … }
 * @example checkAttributes(declared, { onboarded_at: "2026-01-01T00:00:00Z" }, …).values
 *   // { onboarded_at: 1767225600000 }
 */
export function checkAttributes(
  declared: ReadonlyMap<string, ExprType>,
  attributes: Readonly<Record<string, AttributeValue>>,
  options: { readonly path: string; readonly undeclared: UndeclaredAttributes },
): CheckedAttributes {
  const problems: AttributeProblem[] = [];
  // Null prototype: an attribute named `__proto__` is an ordinary key here, not the prototype.
  const values: Record<string, AttributeValue> = Object.create(null);
  for (const [name, value] of Object.entries(attributes)) {
    const at = `${options.path}/${name}`;
    const type = declared.get(name);
    if (!type) {
      if (options.undeclared === "keep") values[name] = value;
      else problems.push({ path: at, message: undeclaredMessage(declared) });
      continue;
    }
    if (value === null) {
      values[name] = null;
      continue;
    }
    const normalized = normalize(type, value);
    if (normalized === undefined) {
      problems.push({ path: at, message: `must be ${expected(type)} (declared ${describe(type)})` });
    } else {
      values[name] = normalized;
    }
  }
  return { problems, values };
}

function undeclaredMessage(declared: ReadonlyMap<string, ExprType>): string {
  const known = [...declared.keys()];
  return known.length > 0
    ? `is not an attribute the rules declare; declared: ${known.join(", ")}`
    : "is not an attribute the rules declare (they declare none)";
}

/** The value as the rules read it, or undefined when it does not fit the type. */
function normalize(type: ExprType, value: string | number | boolean): AttributeValue | undefined {
  switch (type.kind) {
    case "number":
    case "money":
    case "duration":
      return typeof value === "number" && Number.isFinite(value) ? value : undefined;
    case "timestamp":
      if (Number.isSafeInteger(value)) return value;
      return typeof value === "string" ? (parseInstant(value) ?? undefined) : undefined;
    case "boolean":
      return typeof value === "boolean" ? value : undefined;
    case "string":
      return typeof value === "string" ? value : undefined;
    case "enum":
      return typeof value === "string" && type.values.includes(value) ? value : undefined;
    case "list":
      return undefined;
  }
}

/** What a value of `type` must be, in the words of an error message. */
function expected(type: ExprType): string {
  switch (type.kind) {
    case "number":
    case "money":
      return "a number";
    case "duration":
      return "a number of milliseconds";
    case "timestamp":
      return "a time: epoch milliseconds, or ISO 8601 with a UTC offset such as 2026-03-01T09:30:00Z";
    case "boolean":
      return "true or false";
    case "string":
      return "a string";
    case "enum":
      return `one of ${type.values.join(", ")}`;
    case "list":
      return "a list, which attributes cannot be";
  }
}

function describe(type: ExprType): string {
  switch (type.kind) {
    case "enum":
      return `enum(${type.values.join(", ")})`;
    case "money":
      return type.currency ? `money(${type.currency})` : "money";
    case "list":
      return "list";
    default:
      return type.kind;
  }
}

/** A profile's stored `attributes` column (JSON text) as an object; anything else reads as none. */
export function parseAttributes(stored: unknown): Record<string, unknown> {
  if (typeof stored !== "string") return {};
  const parsed: unknown = JSON.parse(stored);
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}
