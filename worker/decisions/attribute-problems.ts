/**
 * Checks the `attributes` a decision request merges into the profile against the custom attributes
 * the rules declare (`fields:` in rules/settings.yaml). A name the rules do not declare, or a value
 * of the wrong type, would read as missing and silently change the answer to "no offer": like an
 * undeclared reason, it is refused with the path and what was expected.
 *
 * Stage: request validation, after the request schema (worker/api/schemas/decision-request.schema.json)
 * has checked the names' shape and that every value is a string, number, boolean or null.
 */
import type { ExprType } from "../../dsl/types";

/** One problem with a request attribute: a JSON Pointer into the body and a sentence. */
export interface AttributeProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Every problem with `attributes` (empty when they fit the declarations). `null` is always allowed:
 * it makes the attribute missing for this decision.
 *
 * @example attributeProblems(plan.attributes, { seats: "twelve" }) // [{ path: "/attributes/seats", … }]
 */
export function attributeProblems(
  declared: ReadonlyMap<string, ExprType>,
  attributes: Readonly<Record<string, unknown>>,
  path = "/attributes",
): AttributeProblem[] {
  const problems: AttributeProblem[] = [];
  for (const [name, value] of Object.entries(attributes)) {
    const at = `${path}/${name}`;
    const type = declared.get(name);
    if (!type) {
      const known = [...declared.keys()];
      problems.push({
        path: at,
        message:
          known.length > 0
            ? `is not an attribute the rules declare; declared: ${known.join(", ")}`
            : "is not an attribute the rules declare (they declare none)",
      });
      continue;
    }
    if (value === null) continue;
    const expected = mismatch(type, value);
    if (expected) problems.push({ path: at, message: `must be ${expected} (declared ${describe(type)})` });
  }
  return problems;
}

/** What the value should have been, or null when it fits the type. */
function mismatch(type: ExprType, value: unknown): string | null {
  switch (type.kind) {
    case "number":
    case "money":
      return typeof value === "number" && Number.isFinite(value) ? null : "a number";
    case "duration":
      return typeof value === "number" && Number.isFinite(value) ? null : "a number of milliseconds";
    case "timestamp":
      return Number.isSafeInteger(value) ? null : "a time in epoch milliseconds";
    case "boolean":
      return typeof value === "boolean" ? null : "true or false";
    case "string":
      return typeof value === "string" ? null : "a string";
    case "enum":
      return typeof value === "string" && type.values.includes(value)
        ? null
        : `one of ${type.values.join(", ")}`;
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
