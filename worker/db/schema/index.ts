/**
 * The D1 schema, one file per table. drizzle-kit reads this module to generate migrations/.
 */
export * from "./api-keys";
export * from "./customers";
export * from "./decisions";
export * from "./events";
export * from "./outbox";
export * from "./redemptions";
export * from "./sends";
