/**
 * The Worker's bindings, written once: every module that touches the platform takes its types from here.
 */
export interface Env {
  /** Rebound's D1 database (customers, events, keys, decisions, sends). */
  DB: D1Database;
  /** Producer for outgoing messages; consumed by the queue handler in worker/index.ts. */
  SENDS: Queue<unknown>;
  /** Shown in message templates as {{company_name}}. */
  COMPANY_NAME: string;
  /** Bootstrap admin key (local dev: .dev.vars). Stored hashed on first use like any other key. */
  REBOUND_ADMIN_KEY?: string;
}
