/**
 * Checking `billing:`: how events from a billing provider's webhooks (Stripe, Chargebee, Paddle;
 * worker/providers/) map onto what the rules declare. Cancellation feedback becomes one of the
 * rules' `reasons:`, a provider's price or plan id becomes one of the rules' `plans:`.
 *
 * Stage: part of check, after reasons and plans (it refers to both). Every key and value is a located
 * error with a "did you mean" when it names something the provider or the rules do not know.
 */
import { closest } from "../suggest";
import type { CheckContext } from "./check-context";
import type { YamlNode } from "./load";
import type { Reader } from "./reader";
import type { BillingIR } from "./ruleset";

/** Stripe's `cancellation_details.feedback` values (API reference, Subscription object). */
export const STRIPE_CANCELLATION_FEEDBACK: readonly string[] = Object.freeze([
  "too_expensive",
  "switched_service",
  "unused",
  "missing_features",
  "too_complex",
  "low_quality",
  "customer_service",
  "other",
]);

/** The reason a cancellation without (mapped) feedback gets when `default_reason` is not set. */
const FALLBACK_REASON = "other";

/** At most this many provider ids in `billing.plans` and codes per provider (a ruleset is small). */
const MAX_BILLING_KEYS = 500;

/** A provider id: what Stripe, Paddle and Chargebee use for prices, plans and reason codes. */
const PROVIDER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** `billing:` read into the IR; with no section, the defaults (identity mappings, `other`). */
export function readBilling(
  c: CheckContext,
  reasons: readonly { key: string }[],
  plans: readonly string[] | null,
): BillingIR {
  const reasonKeys = new Set(reasons.map((r) => r.key));
  const billing: BillingIR = {
    cancellationReasons: { stripe: {}, chargebee: {} },
    defaultReason: reasonKeys.has(FALLBACK_REASON) ? FALLBACK_REASON : null,
    plans: {},
  };
  const found = c.single("billing");
  if (!found) return billing;
  const { node, reader } = found;
  if (node.kind === "scalar" && node.value === null) return billing;
  const map = reader.map(node, "`billing`");
  if (!map) return billing;
  const fields = reader.fields(map, "`billing`", ["cancellation_reasons", "default_reason", "plans"]);

  const defaultNode = fields.get("default_reason");
  if (defaultNode) {
    const key = c.reference(defaultNode, reader, reasonKeys, "reason");
    if (key !== undefined) billing.defaultReason = key;
  }

  const byProvider = fields.get("cancellation_reasons");
  const providers = byProvider ? reader.map(byProvider, "`billing.cancellation_reasons`") : undefined;
  if (providers) {
    const providerFields = reader.fields(providers, "`billing.cancellation_reasons`", [
      "stripe",
      "chargebee",
    ]);
    for (const [provider, mapping] of providerFields) {
      const out = billing.cancellationReasons[provider as "stripe" | "chargebee"];
      readMapping(reader, mapping, `\`billing.cancellation_reasons.${provider}\``, out, {
        checkKey: (keyNode, key) => {
          if (provider !== "stripe" || STRIPE_CANCELLATION_FEEDBACK.includes(key)) return true;
          const suggestion = closest(key, STRIPE_CANCELLATION_FEEDBACK);
          reader.fail(
            keyNode,
            "unknown_enum_value",
            `\`${key}\` is not a Stripe cancellation feedback value`,
            suggestion
              ? `did you mean \`${suggestion}\`?`
              : `Stripe sends: ${STRIPE_CANCELLATION_FEEDBACK.join(", ")}`,
          );
          return false;
        },
        value: (valueNode) => c.reference(valueNode, reader, reasonKeys, "reason"),
      });
    }
  }

  const plansNode = fields.get("plans");
  if (plansNode) {
    const planKeys = new Set(plans ?? []);
    readMapping(reader, plansNode, "`billing.plans`", billing.plans, {
      checkKey: () => true,
      value: (valueNode) => {
        if (plans !== null) return c.reference(valueNode, reader, planKeys, "plan");
        reader.fail(
          valueNode,
          "unknown_plan",
          "`billing.plans` maps provider prices to declared plans, but the rules declare no `plans:`",
          "declare the plans under `plans:` (e.g. `plans: [starter, pro]`)",
        );
        return undefined;
      },
    });
  }
  return billing;
}

/** Reads `provider id → rule key` pairs into `out`, reporting each bad key or value where it is. */
function readMapping(
  reader: Reader,
  node: YamlNode,
  what: string,
  out: Record<string, string>,
  check: {
    checkKey: (keyNode: YamlNode, key: string) => boolean;
    value: (valueNode: YamlNode) => string | undefined;
  },
): void {
  if (node.kind === "scalar" && node.value === null) return;
  const map = reader.map(node, what);
  if (!map) return;
  if (map.pairs.length > MAX_BILLING_KEYS) {
    reader.fail(
      map.pairs[MAX_BILLING_KEYS]!.key,
      "limit_exceeded",
      `${what} may map at most ${MAX_BILLING_KEYS} ids`,
    );
  }
  for (const pair of map.pairs.slice(0, MAX_BILLING_KEYS)) {
    const key = pair.key.kind === "scalar" && pair.key.value !== null ? String(pair.key.value) : undefined;
    if (key === undefined || !PROVIDER_ID_RE.test(key)) {
      reader.fail(
        pair.key,
        "schema_violation",
        `${what}: \`${key ?? ""}\` is not a provider id (letters, digits, _ . : -, at most 128 characters)`,
      );
      continue;
    }
    // A key written twice is already a located `duplicate_key` from the YAML loader.
    if (Object.hasOwn(out, key)) continue;
    if (!check.checkKey(pair.key, key)) continue;
    const value = check.value(pair.value);
    // defineProperty: a provider id is data, even `__proto__`.
    if (value !== undefined) Object.defineProperty(out, key, { value, enumerable: true, writable: true });
  }
}
