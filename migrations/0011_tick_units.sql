-- Claims on the units of a sharded tick (worker/tick/unit-claims.ts): on every shard, one row per
-- (programme unit, tick time) a rebound-ticks message ran, so a redelivered or duplicated message
-- runs its unit once. Campaign units are claimed in campaign_runs instead. Rows older than two days
-- are pruned by the publish unit. Unused on a one-database deployment. WITHOUT ROWID: the key is the row.
CREATE TABLE `tick_units` (
	`unit` text NOT NULL,
	`at` integer NOT NULL,
	`status` text NOT NULL,
	`lease_token` text,
	`attempts` integer NOT NULL,
	`claimed_at` integer NOT NULL,
	`finished_at` integer,
	PRIMARY KEY(`unit`, `at`)
) WITHOUT ROWID;
