-- Customers sharded across D1 databases (worker/db/shards.ts, docs/scaling.md). Every shard runs every
-- migration; this table is used on the control database (shard 0, binding DB) only.
-- While shards are added (SHARDS_FROM set), the customers the move tool has already switched to their
-- new shard: read by the router only for customers whose slot moves. WITHOUT ROWID: the key is the row.
CREATE TABLE `customer_placements` (
	`customer_id` text PRIMARY KEY NOT NULL,
	`shard` integer NOT NULL,
	`moved_at` integer NOT NULL
) WITHOUT ROWID;
