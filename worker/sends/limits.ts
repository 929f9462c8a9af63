/**
 * The send pipeline's limits and timings, in one frozen place. Environment variables may override
 * the delivery timeout (see `sendSettings`); everything else is a property of the design.
 */
export const SEND_LIMITS = Object.freeze({
  /**
   * Delivery attempts per send before it is dead. Matches wrangler.toml's `max_retries = 5` on the
   * rebound-sends consumer (1 delivery + 5 retries), so the queue's own count and ours agree.
   */
  maxAttempts: 6,
  /** First retry waits about this long; each further retry doubles it. */
  backoffBaseSeconds: 30,
  /** No retry waits longer than this. */
  backoffMaxSeconds: 3600,
  /** Default limit on one delivery request (AbortSignal.timeout). */
  deliveryTimeoutMs: 10_000,
  /**
   * A `sending` claim lasts the delivery timeout plus this margin. A consumer that crashed mid-delivery
   * leaves the row `sending`; once the lease has run out a redelivered queue message may take it over.
   */
  leaseMarginMs: 20_000,
  /** Cloudflare Queues: at most 100 messages per sendBatch call. */
  queueBatchSize: 100,
  /** Cloudflare Queues: the longest delay a message can be given (12 hours). */
  maxQueueDelaySeconds: 43_200,
  /** Rows per INSERT: each is one bound JSON parameter, so the only limit is statement size. */
  insertChunkSize: 500,
  /**
   * A queued row that has not been published this long after it was due is republished by
   * `publishDueSends` (the enqueuing invocation died between its insert and its sendBatch).
   */
  republishAfterMs: 60_000,
  /** Rows `publishDueSends` handles per call. */
  publishSweepLimit: 1_000,
  /** Longest error text stored on a row. */
  maxErrorLength: 1_000,
  /** Page size bounds for GET /v1/sends and GET /v1/outbox. */
  defaultPageSize: 50,
  maxPageSize: 200,
});
