/**
 * Limits of the HTTP API, frozen in one place so handlers, schemas and docs agree.
 *
 * The JSON Schemas in worker/api/schemas repeat some of these numbers (JSON cannot import TypeScript);
 * test/worker/limits.test.ts keeps the two in step.
 */
export const LIMITS = Object.freeze({
  /** Largest request body any route accepts. 500 events of ~2 KB each fit with room to spare. */
  maxBodyBytes: 1_048_576,
  /**
   * How much of a body found too large while it streams is read on and thrown away, so the
   * connection that carried it stays usable (worker/api/json-body.ts); past this the read is
   * cancelled. Bounds the work one refused request can cause.
   */
  maxDiscardBytes: 16 * 1_048_576,
  /** Events per `POST /v1/events` batch. */
  maxEventsPerBatch: 500,
  /** Length of an event id or customer id. */
  maxIdLength: 128,
  /** Custom attributes one `customer.updated` event may carry. */
  maxAttributes: 50,
});
