/**
 * Canonical JSON (object keys sorted at every depth), so an event resent with its keys in another
 * order is recognised as the same event, byte for byte.
 *
 * It recurses, so ingest calls it only on properties whose depth worker/ingest/check-properties.ts
 * has bounded (`REQUEST_LIMITS.maxPropertiesDepth`).
 */

/** Serialises a JSON value with sorted object keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    // Null prototype: on a plain object `sorted["__proto__"] = v` would set the prototype and drop
    // the key; here it is an ordinary key, so a property named `__proto__` is kept.
    const sorted: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value).sort()) {
      sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    }
    return sorted;
  }
  return value;
}
