-- Moving customers between shards (worker/shards/, docs/scaling.md). Runs on every shard.
-- customer_fences: a customer being moved off this shard ('leaving'), onto it ('arriving'), or already
-- moved off it ('moved', kept as a tombstone). While a customer has a fence, every write of one of its
-- rows aborts with 'customer_moving': ingest, decisions, the tick and the send consumer all respect it
-- inside their own statements, and a D1 batch that hits it rolls back whole. The triggers that enforce
-- it are NOT created here: they would cost every deployment a probe of this table per written row.
-- The move tool installs them on the shards of a growth before it fences anyone, and
-- POST /v1/admin/shards/finish drops them again (worker/shards/fence-triggers.ts).
-- `writable` is 1 only inside the move tool's own batches (set first, cleared last), which is how the
-- tool copies a customer in and deletes it afterwards; no other writer ever sees it set.
CREATE TABLE `customer_fences` (
	`customer_id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`peer` integer NOT NULL,
	`writable` integer DEFAULT 0 NOT NULL,
	`fenced_at` integer NOT NULL,
	`updated_at` integer NOT NULL
) WITHOUT ROWID;
-- The move tool's copy writes rows that already happened: the sealed-days guard and the metric
-- counters must not see them again (metric_days stays where it was counted; sums across shards hold).
--> statement-breakpoint
DROP TRIGGER `events_sealed_days`;
--> statement-breakpoint
CREATE TRIGGER `events_sealed_days` BEFORE INSERT ON `events`
WHEN (NEW.`occurred_at` < coalesce((SELECT `value` FROM `tick_state` WHERE `key` = 'events_sealed_before'), -9007199254740991)) AND NOT EXISTS (SELECT 1 FROM `customer_fences` WHERE `customer_id` = NEW.`customer_id` AND `writable` = 1)
BEGIN
	SELECT RAISE(ABORT, 'rebound_event_sealed');
END;
--> statement-breakpoint
DROP TRIGGER `decisions_metrics_offered`;
--> statement-breakpoint
CREATE TRIGGER `decisions_metrics_offered` AFTER INSERT ON `decisions`
WHEN (NEW.`offer_key` IS NOT NULL AND NEW.`day` IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM `customer_fences` WHERE `customer_id` = NEW.`customer_id` AND `writable` = 1)
BEGIN
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	VALUES ('offer.shown', 'd', NEW.`day`, coalesce(NEW.`cost_currency`, ''), NEW.`offer_key`, coalesce(NEW.`reason`, ''),
		coalesce(NEW.`experiment` || '/' || NEW.`variant`, ''), NEW.`context`, 1, coalesce(NEW.`cost`, 0))
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`, `amount` = `amount` + excluded.`amount`;
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	SELECT 'offer.expiring', 'd', NEW.`expires_day`, coalesce(NEW.`cost_currency`, ''), NEW.`offer_key`, coalesce(NEW.`reason`, ''),
		coalesce(NEW.`experiment` || '/' || NEW.`variant`, ''), NEW.`context`, 1, 0
	WHERE NEW.`expires_day` IS NOT NULL
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`;
END;
--> statement-breakpoint
DROP TRIGGER `decisions_metrics_holdout`;
--> statement-breakpoint
CREATE TRIGGER `decisions_metrics_holdout` AFTER INSERT ON `decisions`
WHEN (NEW.`holdout` = 1 AND NEW.`day` IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM `customer_fences` WHERE `customer_id` = NEW.`customer_id` AND `writable` = 1)
BEGIN
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	VALUES ('offer.holdout', 'd', NEW.`day`, '', coalesce(NEW.`experiment`, ''), coalesce(NEW.`reason`, ''), '', NEW.`context`, 1, 0)
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`;
END;
--> statement-breakpoint
DROP TRIGGER `dunning_cases_metrics_opened`;
--> statement-breakpoint
CREATE TRIGGER `dunning_cases_metrics_opened` AFTER INSERT ON `dunning_cases`
WHEN (NEW.`opened_day` IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM `customer_fences` WHERE `customer_id` = NEW.`customer_id` AND `writable` = 1)
BEGIN
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	VALUES ('dunning.opened', 'd', NEW.`opened_day`, coalesce(NEW.`currency`, ''), NEW.`cadence`, coalesce(NEW.`decline_code`, ''),
		'', '', 1, coalesce(NEW.`mrr_at_risk`, 0))
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`, `amount` = `amount` + excluded.`amount`;
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	SELECT 'dunning.open', g.grain, g.period, coalesce(NEW.`currency`, ''), '', coalesce(NEW.`decline_code`, ''), '', '', 1, coalesce(NEW.`mrr_at_risk`, 0)
	FROM (SELECT 'd' AS grain, NEW.`opened_day` AS period
		UNION ALL SELECT 'm', CAST(strftime('%Y', NEW.`opened_day` * 86400, 'unixepoch') AS INTEGER) * 12
			+ CAST(strftime('%m', NEW.`opened_day` * 86400, 'unixepoch') AS INTEGER) - 1
		UNION ALL SELECT 'y', CAST(strftime('%Y', NEW.`opened_day` * 86400, 'unixepoch') AS INTEGER)) AS g
	WHERE true
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`, `amount` = `amount` + excluded.`amount`;
END;
