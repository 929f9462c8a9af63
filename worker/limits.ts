/**
 * Limits of the HTTP API's requests, frozen in one place so handlers, schemas and docs agree. (The
 * language's own limits, on rule files and expressions, are `LIMITS` in dsl/limits.ts.)
 *
 * The JSON Schemas in worker/api/schemas repeat some of these numbers (JSON cannot import TypeScript);
 * test/worker/limits.test.ts keeps the two in step.
 */
export const REQUEST_LIMITS = Object.freeze({
  /** Largest request body any route accepts. 500 events of ~2 KB each fit with room to spare. */
  maxBodyBytes: 1_048_576,
  /**
   * How much of a body found too large while it streams is read on and thrown away, so the
   * connection that carried it stays usable (worker/api/json-body.ts); past this the read is
   * cancelled, which leaves the connection unusable. 100 MB is the largest request body Cloudflare
   * delivers to a Worker on the Free and Pro plans (larger ones get 413 at the edge, before the
   * Worker runs: developers.cloudflare.com/workers/platform/limits/), so every body those plans can
   * deliver is drained; only authenticated callers get this far with a body of unknown length
   * (worker/api/app.ts), and dropping chunks as they arrive costs little CPU time.
   */
  maxDiscardBytes: 100_000_000,
  /** Events per `POST /v1/events` batch. */
  maxEventsPerBatch: 500,
  /** Length of an event id or customer id. */
  maxIdLength: 128,
  /** Custom attributes one `customer.updated` event may carry. */
  maxAttributes: 50,
  /**
   * Levels of objects and arrays inside an event's `properties` (`{"a": {"b": [1]}}` nests 2): only
   * an `x.*` event's free properties can nest at all (built-in types and custom attribute values are
   * flat). Checked iteratively before anything recursive walks the value
   * (worker/ingest/check-properties.ts): a body of 1 MiB can nest a million levels, far past what a
   * recursive walk survives. 32 is more than any event payload we have seen needs. JSON Schema has
   * no depth keyword, so event.schema.json only states it in a `$comment`.
   */
  maxPropertiesDepth: 32,
});
