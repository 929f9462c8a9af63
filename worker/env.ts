/**
 * The Worker's bindings, written once: every module that touches the platform takes its types from here.
 */
export interface Env {
  /**
   * Rebound's D1 database (customers, events, keys, decisions, sends): shard 0, and the control
   * database when customers are sharded (worker/db/shards.ts, docs/scaling.md).
   */
  DB: D1Database;
  /** Further customer shards, `DB_1` … `DB_<SHARDS − 1>` (wrangler.toml [[d1_databases]]). */
  [shard: `DB_${number}`]: D1Database | undefined;
  /** How many D1 databases customers are placed on (default "1": everything in `DB`). */
  SHARDS?: string;
  /**
   * Set only while shards are being added: the count before the growth. Customers the new count
   * places elsewhere stay put until the move tool has moved them (docs/scaling.md).
   */
  SHARDS_FROM?: string;
  /** Archived raw events (worker/archive/): one NDJSON object per day part. */
  ARCHIVE?: R2Bucket;
  /** Producer for outgoing messages; consumed by the queue handler in worker/index.ts. */
  SENDS: Queue<unknown>;
  /**
   * Producer for the units of a sharded tick (rebound-ticks: one message per shard and unit,
   * worker/tick/dispatch.ts). Unused on one database; a sharded deployment without it runs every
   * shard's tick inline in the scheduled invocation.
   */
  TICKS?: Queue<unknown>;
  /** Shown in message templates as {{company_name}}. */
  COMPANY_NAME: string;
  /**
   * "true" lets `POST /v1/admin/tick` run ticks dated after the wall clock (development only: `npm
   * start` sets it in .dev.vars). Unset in production, where a future tick is refused.
   */
  REBOUND_ALLOW_FUTURE_TICKS?: string;
  /** Bootstrap admin key (local dev: .dev.vars). Stored hashed on first use like any other key. */
  REBOUND_ADMIN_KEY?: string;
  /** Channel for sends whose rules name none (wrangler.toml [vars]; "outbox" locally). */
  DEFAULT_CHANNEL?: string;
  /** Time limit of one channel delivery request, in milliseconds (default 10000). */
  DELIVERY_TIMEOUT_MS?: string;
  /** First retry delay of a failed send, in seconds (default 30); lower it locally to watch retries. */
  RETRY_BASE_SECONDS?: string;
  /** Sender address for the email channels, e.g. "Acme <billing@acme.com>". */
  EMAIL_FROM?: string;
  /** webhook channel: receiver URL and HMAC secret (secret: `wrangler secret put WEBHOOK_SECRET`). */
  WEBHOOK_URL?: string;
  WEBHOOK_SECRET?: string;
  /** resend channel: API key (secret) and API base URL (default https://api.resend.com). */
  RESEND_API_KEY?: string;
  RESEND_BASE_URL?: string;
  /** postmark channel: server token (secret), API base URL and message stream (default "outbound"). */
  POSTMARK_TOKEN?: string;
  POSTMARK_BASE_URL?: string;
  POSTMARK_MESSAGE_STREAM?: string;
  /**
   * Billing-provider webhooks (docs/providers.md), each a secret (`wrangler secret put …`; locally
   * .dev.vars): Stripe's endpoint signing secret(s) `whsec_…`, Paddle's endpoint secret key(s),
   * Chargebee's Basic-auth username and password(s). Several comma-separated values are all
   * accepted, for rotation. Unset: that provider's route answers 503 `webhook_not_configured`.
   */
  STRIPE_WEBHOOK_SECRET?: string;
  PADDLE_WEBHOOK_SECRET?: string;
  CHARGEBEE_WEBHOOK_USERNAME?: string;
  CHARGEBEE_WEBHOOK_PASSWORD?: string;
  /** cloudflare_email channel: the send_email binding. */
  EMAIL?: SendEmail;
}
