/**
 * Runs a build-time compiled validator (worker/generated/validators.js) and turns ajv's errors
 * into the API's error details: a JSON Pointer to the offending value and a sentence about it.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import type { ErrorDetail } from "../errors";
import { ID_PROBLEM, isIdRuleError } from "./identifiers";

const BUILT_IN_TYPES =
  "customer.updated, activity, order.completed, subscription.started, subscription.changed, " +
  "subscription.canceled, subscription.reactivated, payment.failed, payment.succeeded, card.expiring, " +
  "referral.made, support.ticket, nps.submitted";

/**
 * Validates `body`; returns the details of every problem found (empty when valid).
 *
 * @param pathPrefix prepended to every path, e.g. `/events/3` when checking one item of a batch
 */
export function schemaProblems(validate: ValidateFunction, body: unknown, pathPrefix = ""): ErrorDetail[] {
  if (validate(body)) return [];
  const details: ErrorDetail[] = [];
  const seenPaths = new Set<string>();
  for (const error of validate.errors ?? []) {
    const detail = describe(error, pathPrefix);
    // One problem per value is enough to fix it; a second rule failing on it only adds noise.
    if (!detail || seenPaths.has(detail.path)) continue;
    seenPaths.add(detail.path);
    details.push(detail);
  }
  return details;
}

function describe(error: ErrorObject, prefix: string): ErrorDetail | null {
  const path = prefix + error.instancePath;
  // A name refused by `propertyNames` (its own error and the one from the rule inside it): point at
  // the name and say what a name may be, not at the object that holds it.
  const badName =
    error.propertyName ?? (error.keyword === "propertyNames" ? error.params.propertyName : undefined);
  if (typeof badName === "string") {
    return { path: `${path}/${escapePointer(badName)}`, message: nameHint(error.instancePath) };
  }
  // Too short, too long or a bad character: one sentence says what an id may be.
  if (isIdRuleError(error)) return { path, message: ID_PROBLEM };
  switch (error.keyword) {
    // "must match then schema" only repeats the errors reported inside the `then` branch.
    case "if":
      return null;
    case "required":
      return {
        path: `${path}/${escapePointer(String(error.params.missingProperty))}`,
        message: "is required",
      };
    case "dependencies":
      return {
        path: `${path}/${escapePointer(String(error.params.missingProperty))}`,
        message: `is required when ${String(error.params.property)} is given`,
      };
    case "additionalProperties":
      return {
        path: `${path}/${escapePointer(String(error.params.additionalProperty))}`,
        message: "is not a known property here",
      };
    case "enum":
      return { path, message: `must be one of ${(error.params.allowedValues as unknown[]).join(", ")}` };
    case "pattern":
      if (error.instancePath.endsWith("/type") || error.instancePath === "/type") {
        return {
          path,
          message: `unknown event type; use one of ${BUILT_IN_TYPES}, or x.<name> for a custom event`,
        };
      }
      return { path, message: `has the wrong format (${patternHint(error.instancePath)})` };
    default:
      return { path, message: error.message ?? "is invalid" };
  }
}

function patternHint(instancePath: string): string {
  const field = instancePath.slice(instancePath.lastIndexOf("/") + 1);
  const hints: Record<string, string> = {
    currency: "an ISO 4217 code such as USD",
    country: "an ISO 3166 alpha-2 code such as DE",
    card_last4: "four digits",
    email: "an email address",
    update_url: "an http(s) URL",
    reason: "a reason key such as too_expensive",
  };
  return hints[field] ?? "see the event reference in README.md";
}

function nameHint(instancePath: string): string {
  return instancePath.endsWith("/attributes")
    ? "is not a valid attribute name: a letter or _, then up to 63 letters, digits or _"
    : "is not a valid property name here";
}

function escapePointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}
