/**
 * The pseudonym an erased customer is remembered by (`erasures.customer_key`, worker/privacy/): the
 * lower-case hex SHA-256 of the customer id. The erasure stores the hash and never the id; ingest and
 * decisions hash the ids they are asked about to refuse an erased customer.
 */

export async function customerKey(customerId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(customerId));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** True when `customerId` was erased on request. */
export async function isErased(db: D1Database, customerId: string): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 AS erased FROM erasures WHERE customer_key = ?")
    .bind(await customerKey(customerId))
    .first();
  return row !== null;
}
