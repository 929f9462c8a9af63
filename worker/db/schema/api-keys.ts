/**
 * `api_keys`: scoped API keys, stored only as SHA-256 hashes of the secret.
 */
import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Hex SHA-256 of the full key; the key itself is shown once at creation and never stored. */
    keyHash: text("key_hash").notNull(),
    /** The first characters of the key, so an operator can tell keys apart in a listing. */
    keyPrefix: text("key_prefix").notNull(),
    /** JSON array of scopes, e.g. ["events:write"]. */
    scopes: text("scopes").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (table) => [
    // Serves authentication (worker/auth/authenticate.ts): every request looks its key up by hash.
    // The listing (GET /v1/admin/api-keys) reads the whole small table and needs no index.
    uniqueIndex("api_keys_key_hash").on(table.keyHash),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
