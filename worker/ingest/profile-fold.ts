/**
 * The profile as a fold: `foldEvents(state, newEvents)` brings a customer's stored profile state up
 * to date with the events a request actually inserted, and `profileColumns(state)` derives the
 * `customers` row from it (docs/data-model.md defines every column). Ingest reads one profile row per
 * customer instead of the customer's history, so its cost does not grow with the history.
 *
 * Every column is a function of the *set* of events, whatever order they arrive in, because the state
 * keeps what each kind of column needs to combine a new event with the old ones:
 * - latest-wins fields (email, plan, the last cancellation, ...) keep the `(occurred_at, id)` of the
 *   event that set them, and a newer event replaces them only if its key is greater;
 * - counts and sums add (a resent event is never folded: write-events.ts folds inserted events only);
 *   minima and maxima combine;
 * - custom attributes keep a version per key (a removal keeps its version, so an older value arriving
 *   late does not bring the key back);
 * - invoices keep the earliest failure and the latest decline code while open, and the largest paid
 *   amount per currency once paid (a success resent under a new event id is not counted twice, and a
 *   failure arriving after its invoice's success does not reopen it);
 * - orders keep a count and a total per currency, so the profile's totals follow a currency change.
 *
 * worker/ingest/profile-sql.ts recomputes the same columns from the stored events with one SQL
 * statement; test/worker/profile-fold.test.ts checks the two agree on random histories, orders,
 * batch splits, duplicates and concurrent requests.
 */

import { compareIds } from "./compare-ids";
import { addToTimeline, type Movement, type TimelineEntry, timelineEntry, type WalkState } from "./movements";

export { compareIds };

/** One stored event as the fold reads it (properties as canonical JSON text). */
export interface FoldEvent {
  id: string;
  type: string;
  occurred_at: number;
  properties: string;
}

/** `(occurred_at, id)` of the event that set a value, and the value. */
export type Slot<T> = readonly [at: number, id: string, value: T];

type Json = string | number | boolean | null;

/** Latest-wins fields, by name (each fed by the event types in SLOT_SOURCES). */
interface Slots {
  email?: Slot<Json>;
  first_name?: Slot<Json>;
  country?: Slot<Json>;
  timezone?: Slot<Json>;
  plan?: Slot<Json>;
  mrr?: Slot<Json>;
  /** Currency named by customer.updated / subscription.started. */
  currency?: Slot<Json>;
  /** Currency named by orders and payments, used when the first is absent. */
  paid_currency?: Slot<Json>;
  start?: Slot<null>;
  cancel?: Slot<{ reason: Json; comment: Json }>;
  nps?: Slot<Json>;
  satisfied?: Slot<Json>;
  card_last4?: Slot<Json>;
  update_url?: Slot<Json>;
  card_expiring?: Slot<Json>;
}

interface Invoice {
  /** The invoice id as sent (ids are strings). */
  id: string;
  /** Largest paid amount per currency; present once a success arrived (the invoice is closed). */
  paid?: Map<string, number>;
  /** Earliest failure while open: its amount. */
  failure?: Slot<Json>;
  /** Latest failure carrying a decline code while open. */
  decline?: Slot<Json>;
}

/** Everything a customer's profile is derived from. */
export interface ProfileState {
  slots: Slots;
  attributes: Map<string, Slot<Json>>;
  /** Orders per currency (`""` for none): count and total. */
  orders: Map<string, { count: number; total: number }>;
  invoices: Map<string, Invoice>;
  subscribed: boolean;
  signedUpAt: number | null;
  reactivatedAt: number | null;
  lastActiveAt: number | null;
  referrals: number;
  /** Opened minus resolved tickets (the profile shows it floored at zero). */
  ticketBalance: number;
  firstSeenAt: number | null;
  lastEventAt: number | null;
  /**
   * The subscription timeline in `(occurred_at, id)` order (worker/ingest/movements.ts), or null for
   * a state stored before it existed: write-events.ts rebuilds it from the daily history.
   */
  timeline: TimelineEntry[] | null;
  /** Where the walk stands before the timeline's first entry (entries compacted away); null: at the start. */
  checkpoint: WalkState | null;
  /**
   * The MRR movements already added to `metric_days` for this customer; the first `frozen` came from
   * entries compacted into the checkpoint, and no event can change them any more.
   */
  counted: Movement[];
  frozen: number;
}

export function emptyProfileState(): ProfileState {
  return {
    slots: {},
    attributes: new Map(),
    orders: new Map(),
    invoices: new Map(),
    subscribed: false,
    signedUpAt: null,
    reactivatedAt: null,
    lastActiveAt: null,
    referrals: 0,
    ticketBalance: 0,
    firstSeenAt: null,
    lastEventAt: null,
    timeline: [],
    checkpoint: null,
    counted: [],
    frozen: 0,
  };
}

/** True when the event `(at, id)` is newer than the slot's. */
function newer(at: number, id: string, slot: Slot<unknown> | undefined): boolean {
  return slot === undefined || at > slot[0] || (at === slot[0] && compareIds(id, slot[1]) > 0);
}

/** True when the event `(at, id)` is older than the slot's. */
function older(at: number, id: string, slot: Slot<unknown> | undefined): boolean {
  return slot === undefined || at < slot[0] || (at === slot[0] && compareIds(id, slot[1]) < 0);
}

const has = (properties: Record<string, unknown>, name: string) => Object.hasOwn(properties, name);
const json = (value: unknown): Json => (value === undefined ? null : (value as Json));
const PLAN_TYPES = new Set([
  "customer.updated",
  "subscription.started",
  "subscription.changed",
  "subscription.reactivated",
]);

/** Folds `events` (each inserted for the first time) into `state`, in place. */
export function foldEvents(state: ProfileState, events: Iterable<FoldEvent>): ProfileState {
  const entries: TimelineEntry[] = [];
  for (const event of events) {
    foldEvent(state, event);
    const entry = timelineEntry(event);
    if (entry) entries.push(entry);
  }
  if (state.timeline !== null) addToTimeline(state.timeline, entries);
  return state;
}

function foldEvent(state: ProfileState, event: FoldEvent): void {
  const { occurred_at: at, id, type } = event;
  const properties = JSON.parse(event.properties) as Record<string, unknown>;
  const slots = state.slots;
  const offer = <K extends keyof Slots>(name: K, value: NonNullable<Slots[K]>[2]) => {
    if (newer(at, id, slots[name])) slots[name] = [at, id, value] as unknown as Slots[K];
  };
  const offerProperty = (name: keyof Slots, property: string) => {
    if (has(properties, property)) offer(name, json(properties[property]));
  };

  state.firstSeenAt = state.firstSeenAt === null ? at : Math.min(state.firstSeenAt, at);
  state.lastEventAt = state.lastEventAt === null ? at : Math.max(state.lastEventAt, at);

  if (type === "customer.updated") {
    for (const name of ["email", "first_name", "country", "timezone"] as const) offerProperty(name, name);
    const attributes = properties.attributes;
    if (typeof attributes === "object" && attributes !== null) {
      for (const [key, value] of Object.entries(attributes)) {
        if (newer(at, id, state.attributes.get(key))) state.attributes.set(key, [at, id, json(value)]);
      }
    }
  }
  if (PLAN_TYPES.has(type)) {
    offerProperty("plan", "plan");
    offerProperty("mrr", "mrr");
  }
  if (type === "customer.updated" || type === "subscription.started") offerProperty("currency", "currency");
  if (type === "order.completed" || type === "payment.succeeded" || type === "payment.failed") {
    offerProperty("paid_currency", "currency");
  }

  switch (type) {
    case "activity":
      state.lastActiveAt = Math.max(state.lastActiveAt ?? at, at);
      break;
    case "order.completed": {
      const key = currencyKey(properties.currency);
      const orders = state.orders.get(key) ?? { count: 0, total: 0 };
      orders.count += 1;
      orders.total += typeof properties.amount === "number" ? properties.amount : 0;
      state.orders.set(key, orders);
      break;
    }
    case "subscription.started":
      state.subscribed = true;
      state.signedUpAt = Math.min(state.signedUpAt ?? at, at);
      offer("start", null);
      break;
    case "subscription.reactivated":
      state.subscribed = true;
      state.reactivatedAt = Math.max(state.reactivatedAt ?? at, at);
      offer("start", null);
      break;
    case "subscription.changed":
      state.subscribed = true;
      break;
    case "subscription.canceled":
      offer("cancel", { reason: json(properties.reason), comment: json(properties.comment) });
      break;
    case "payment.failed":
      offerProperty("card_last4", "card_last4");
      offerProperty("update_url", "update_url");
      foldFailure(state, at, id, properties);
      break;
    case "payment.succeeded":
      foldSuccess(state, properties);
      break;
    case "card.expiring":
      offer("card_expiring", json(properties.expires_at));
      break;
    case "referral.made":
      state.referrals += 1;
      break;
    case "support.ticket":
      state.ticketBalance += properties.status === "opened" ? 1 : -1;
      if (properties.status === "resolved") offer("satisfied", json(properties.satisfied));
      break;
    case "nps.submitted":
      offer("nps", json(properties.score));
      break;
  }
}

const currencyKey = (currency: unknown) => (typeof currency === "string" ? currency : "");

function invoiceOf(state: ProfileState, id: string): Invoice {
  let invoice = state.invoices.get(id);
  if (!invoice) {
    invoice = { id };
    state.invoices.set(id, invoice);
  }
  return invoice;
}

function foldFailure(state: ProfileState, at: number, id: string, properties: Record<string, unknown>): void {
  const invoice = invoiceOf(state, String(properties.invoice_id));
  if (invoice.paid) return; // a failure arriving after its invoice's success does not reopen it
  if (older(at, id, invoice.failure)) invoice.failure = [at, id, json(properties.amount)];
  if (has(properties, "decline_code") && newer(at, id, invoice.decline)) {
    invoice.decline = [at, id, json(properties.decline_code)];
  }
}

function foldSuccess(state: ProfileState, properties: Record<string, unknown>): void {
  const invoice = invoiceOf(state, String(properties.invoice_id));
  invoice.paid ??= new Map();
  invoice.failure = undefined;
  invoice.decline = undefined;
  if (typeof properties.amount !== "number") return;
  const key = currencyKey(properties.currency);
  invoice.paid.set(key, Math.max(invoice.paid.get(key) ?? properties.amount, properties.amount));
}

/** The `customers` columns (docs/data-model.md), by column name. */
export type ProfileColumns = Record<(typeof PROFILE_COLUMNS)[number], Json>;

export const PROFILE_COLUMNS = [
  "email",
  "first_name",
  "country",
  "timezone",
  "plan",
  "mrr",
  "currency",
  "status",
  "signed_up_at",
  "canceled_at",
  "churn_reason",
  "churn_comment",
  "reactivated_at",
  "last_active_at",
  "ltv",
  "order_count",
  "order_total",
  "aov",
  "referrals",
  "nps",
  "open_tickets",
  "last_ticket_satisfied",
  "payment_failed_at",
  "failed_invoice_id",
  "failed_amount",
  "decline_code",
  "card_last4",
  "update_url",
  "card_expires_at",
  "attributes",
  "first_seen_at",
  "last_event_at",
] as const;

const value = <T>(slot: Slot<T> | undefined): T | null => (slot ? slot[2] : null);

/** SQLite's round(): half away from zero. */
const roundLikeSqlite = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/** JSON booleans read through json_extract are 1 and 0. */
const sqlValue = (v: Json): Json => (typeof v === "boolean" ? (v ? 1 : 0) : v);

/** Derives the profile row from the state. */
export function profileColumns(state: ProfileState): ProfileColumns {
  const { slots } = state;
  const currency = value(slots.currency) ?? value(slots.paid_currency);
  const key = currencyKey(currency);
  const orders = state.orders.get(key) ?? { count: 0, total: 0 };
  let paidTotal = 0;
  for (const invoice of state.invoices.values()) paidTotal += invoice.paid?.get(key) ?? 0;

  let open: Invoice | undefined;
  for (const invoice of state.invoices.values()) {
    const failure = invoice.failure;
    if (failure && (!open || older(failure[0], failure[1], open.failure))) open = invoice;
  }
  const cancel = slots.cancel;
  const canceled = cancel !== undefined && newer(cancel[0], cancel[1], slots.start);
  const status = canceled
    ? "canceled"
    : state.subscribed && open
      ? "past_due"
      : state.subscribed
        ? "active"
        : "lead";
  const expiresAt = value(slots.card_expiring);
  const attributes: Record<string, Json> = Object.create(null);
  for (const [name, [, , attribute]] of state.attributes) {
    if (attribute !== null) Object.defineProperty(attributes, name, { value: attribute, enumerable: true });
  }
  return {
    email: value(slots.email),
    first_name: value(slots.first_name),
    country: value(slots.country),
    timezone: value(slots.timezone),
    plan: value(slots.plan),
    mrr: value(slots.mrr),
    currency,
    status,
    signed_up_at: state.signedUpAt,
    canceled_at: canceled ? cancel[0] : null,
    churn_reason: canceled ? cancel[2].reason : null,
    churn_comment: canceled ? cancel[2].comment : null,
    reactivated_at: state.reactivatedAt,
    last_active_at: state.lastActiveAt,
    ltv: paidTotal + orders.total,
    order_count: [...state.orders.values()].reduce((sum, o) => sum + o.count, 0),
    order_total: orders.total,
    aov: orders.count > 0 ? roundLikeSqlite(orders.total / orders.count) : null,
    referrals: state.referrals,
    nps: value(slots.nps),
    open_tickets: Math.max(0, state.ticketBalance),
    last_ticket_satisfied: sqlValue(value(slots.satisfied)),
    payment_failed_at: open?.failure?.[0] ?? null,
    failed_invoice_id: open?.id ?? null,
    failed_amount: open?.failure?.[2] ?? null,
    decline_code: open ? value(open.decline) : null,
    card_last4: value(slots.card_last4),
    update_url: value(slots.update_url),
    card_expires_at: typeof expiresAt === "string" ? Date.parse(expiresAt) : null,
    attributes: JSON.stringify(attributes),
    first_seen_at: state.firstSeenAt,
    last_event_at: state.lastEventAt,
  };
}

// Stored form (customers.profile_state): JSON with arrays for maps, so names such as `__proto__`
// stay data. Version 1; a reader meeting another version rebuilds the state from the events.
// Version 2 added the subscription timeline and the counted movements; a version 1 state is read
// with `timeline: null` (rebuilt from the daily history) and nothing counted.
const STATE_VERSION = 2;

interface StoredInvoice {
  id: string;
  paid?: [string, number][];
  failure?: Slot<Json>;
  decline?: Slot<Json>;
}

interface StoredState {
  v: number;
  slots: Slots;
  attributes: [string, ...Slot<Json>][];
  orders: [string, number, number][];
  invoices: StoredInvoice[];
  subscribed: boolean;
  signedUpAt: number | null;
  reactivatedAt: number | null;
  lastActiveAt: number | null;
  referrals: number;
  ticketBalance: number;
  firstSeenAt: number | null;
  lastEventAt: number | null;
  timeline?: TimelineEntry[];
  checkpoint?: WalkState;
  counted?: Movement[];
  frozen?: number;
}

export function serializeProfileState(state: ProfileState): string {
  const stored: StoredState = {
    v: STATE_VERSION,
    slots: state.slots,
    attributes: [...state.attributes].map(([name, slot]) => [name, ...slot]),
    orders: [...state.orders].map(([currency, o]) => [currency, o.count, o.total]),
    invoices: [...state.invoices.values()].map((invoice) => ({
      id: invoice.id,
      ...(invoice.paid ? { paid: [...invoice.paid] } : {}),
      ...(invoice.failure ? { failure: invoice.failure } : {}),
      ...(invoice.decline ? { decline: invoice.decline } : {}),
    })),
    subscribed: state.subscribed,
    signedUpAt: state.signedUpAt,
    reactivatedAt: state.reactivatedAt,
    lastActiveAt: state.lastActiveAt,
    referrals: state.referrals,
    ticketBalance: state.ticketBalance,
    firstSeenAt: state.firstSeenAt,
    lastEventAt: state.lastEventAt,
    ...(state.timeline ? { timeline: state.timeline } : {}),
    ...(state.checkpoint ? { checkpoint: state.checkpoint } : {}),
    counted: state.counted,
    ...(state.frozen > 0 ? { frozen: state.frozen } : {}),
  };
  return JSON.stringify(stored);
}

/** The stored state, or null when there is none this version can read (rebuild from the events). */
export function parseProfileState(text: string | null): ProfileState | null {
  if (text === null) return null;
  const stored = JSON.parse(text) as StoredState;
  if (stored.v !== STATE_VERSION && stored.v !== 1) return null;
  const slots: Slots = {};
  for (const [name, slot] of Object.entries(stored.slots)) {
    if (slot) slots[name as keyof Slots] = slot as never;
  }
  return {
    slots,
    attributes: new Map(stored.attributes.map(([name, at, id, v]) => [name, [at, id, v]])),
    orders: new Map(stored.orders.map(([currency, count, total]) => [currency, { count, total }])),
    invoices: new Map(
      stored.invoices.map((invoice) => [
        invoice.id,
        {
          id: invoice.id,
          ...(invoice.paid ? { paid: new Map(invoice.paid) } : {}),
          ...(invoice.failure ? { failure: invoice.failure } : {}),
          ...(invoice.decline ? { decline: invoice.decline } : {}),
        },
      ]),
    ),
    subscribed: stored.subscribed,
    signedUpAt: stored.signedUpAt,
    reactivatedAt: stored.reactivatedAt,
    lastActiveAt: stored.lastActiveAt,
    referrals: stored.referrals,
    ticketBalance: stored.ticketBalance,
    firstSeenAt: stored.firstSeenAt,
    lastEventAt: stored.lastEventAt,
    timeline: stored.v === 1 ? null : (stored.timeline ?? []),
    checkpoint: stored.checkpoint ?? null,
    counted: stored.counted ?? [],
    frozen: stored.frozen ?? 0,
  };
}
