/**
 * The D1 schema, one file per table. drizzle-kit reads this module to generate migrations/.
 */
export * from "./api-keys";
export * from "./archive-days";
export * from "./campaign-exclusions";
export * from "./campaign-runs";
export * from "./customer-fences";
export * from "./customer-placements";
export * from "./customers";
export * from "./decisions";
export * from "./dunning-cases";
export * from "./erasures";
export * from "./event-days";
export * from "./events";
export * from "./metric-days";
export * from "./outbox";
export * from "./provider-event-counts";
export * from "./provider-held-events";
export * from "./redemptions";
export * from "./sends";
export * from "./tick-state";
export * from "./tick-units";
