CREATE TABLE `metric_days` (
	`metric` text NOT NULL,
	`grain` text NOT NULL,
	`period` integer NOT NULL,
	`currency` text NOT NULL,
	`k1` text NOT NULL,
	`k2` text NOT NULL,
	`k3` text NOT NULL,
	`k4` text NOT NULL,
	`count` integer NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`)
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `decisions` ADD `day` integer;--> statement-breakpoint
ALTER TABLE `decisions` ADD `expires_day` integer;--> statement-breakpoint
ALTER TABLE `decisions` ADD `closed_day` integer;--> statement-breakpoint
CREATE INDEX `decisions_created` ON `decisions` (`created_at`,`id`);--> statement-breakpoint
ALTER TABLE `dunning_cases` ADD `decline_code` text;--> statement-breakpoint
ALTER TABLE `dunning_cases` ADD `mrr_at_risk` integer;--> statement-breakpoint
ALTER TABLE `dunning_cases` ADD `opened_day` integer;--> statement-breakpoint
ALTER TABLE `dunning_cases` ADD `closed_day` integer;--> statement-breakpoint
CREATE INDEX `dunning_cases_opened` ON `dunning_cases` (`opened_at`,`customer_id`,`invoice_id`);--> statement-breakpoint
CREATE INDEX `dunning_cases_closed` ON `dunning_cases` (`closed_at`,`customer_id`,`invoice_id`) WHERE "dunning_cases"."closed_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `dunning_cases_recovered` ON `dunning_cases` (`recovered_at`,`customer_id`,`invoice_id`) WHERE "dunning_cases"."recovered_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `campaign_runs_due` ON `campaign_runs` (`due_at`);--> statement-breakpoint
CREATE INDEX `sends_winback_created` ON `sends` (`created_at`) WHERE "sends"."programme_kind" = 'winback';--> statement-breakpoint
-- The metrics triggers (docs/metrics.md): each adds to `metric_days` in the statement that changes the
-- decision or the case, so a figure can never disagree with the rows it counts. The writers store the
-- reporting days (`day`, `expires_day`, `closed_day`, `opened_day`): SQLite knows no time zones.
-- Offer keys: k1 = offer, k2 = reason, k3 = experiment/variant, k4 = context.
CREATE TRIGGER `decisions_metrics_offered` AFTER INSERT ON `decisions`
WHEN NEW.`offer_key` IS NOT NULL AND NEW.`day` IS NOT NULL
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
END;--> statement-breakpoint
CREATE TRIGGER `decisions_metrics_holdout` AFTER INSERT ON `decisions`
WHEN NEW.`holdout` = 1 AND NEW.`day` IS NOT NULL
BEGIN
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	VALUES ('offer.holdout', 'd', NEW.`day`, '', coalesce(NEW.`experiment`, ''), coalesce(NEW.`reason`, ''), '', NEW.`context`, 1, 0)
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`;
END;--> statement-breakpoint
-- An outstanding offer answered, withdrawn or superseded: counted on the day it happened, and no
-- longer expiring on its expiry day. (`expired` itself changes nothing: the expiring row already
-- counts it, on the day it expired, whenever the row is marked.)
CREATE TRIGGER `decisions_metrics_closed` AFTER UPDATE OF `status` ON `decisions`
WHEN OLD.`status` = 'outstanding' AND NEW.`status` IN ('accepted', 'declined', 'withdrawn', 'superseded')
	AND NEW.`closed_day` IS NOT NULL AND OLD.`day` IS NOT NULL
BEGIN
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	VALUES ('offer.' || NEW.`status`, 'd', NEW.`closed_day`, coalesce(NEW.`cost_currency`, ''), NEW.`offer_key`,
		coalesce(NEW.`reason`, ''), coalesce(NEW.`experiment` || '/' || NEW.`variant`, ''), NEW.`context`, 1,
		CASE WHEN NEW.`status` = 'accepted' THEN coalesce(NEW.`cost`, 0) ELSE 0 END)
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`, `amount` = `amount` + excluded.`amount`;
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	SELECT 'offer.expiring', 'd', OLD.`expires_day`, coalesce(NEW.`cost_currency`, ''), NEW.`offer_key`, coalesce(NEW.`reason`, ''),
		coalesce(NEW.`experiment` || '/' || NEW.`variant`, ''), NEW.`context`, -1, 0
	WHERE OLD.`expires_day` IS NOT NULL
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`;
END;--> statement-breakpoint
-- Dunning keys: k1 = cadence, k2 = decline code, k3 = the step that preceded a recovery.
-- `dunning.open` is the running stock of open cases and the MRR they put at risk (by decline code), kept at the day,
-- month and year grains like `customers.active` (a day number is a local date: SQLite's calendar
-- turns it into its month and year), so "at risk during a period" reads a bounded number of rows.
CREATE TRIGGER `dunning_cases_metrics_opened` AFTER INSERT ON `dunning_cases`
WHEN NEW.`opened_day` IS NOT NULL
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
END;--> statement-breakpoint
-- A close counts on its day (a recovery's: the day it was paid), never before the day it opened. Its
-- amount is the MRR that was at risk when the case opened (a recovery: the MRR kept), the same figure
-- opening and the open stock count, so recovered MRR never exceeds what was at risk.
CREATE TRIGGER `dunning_cases_metrics_closed` AFTER UPDATE OF `status` ON `dunning_cases`
WHEN OLD.`status` = 'open' AND NEW.`status` <> 'open' AND NEW.`closed_day` IS NOT NULL AND OLD.`opened_day` IS NOT NULL
BEGIN
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	VALUES ('dunning.' || NEW.`status`, 'd', NEW.`closed_day`, coalesce(NEW.`currency`, ''), NEW.`cadence`,
		coalesce(NEW.`decline_code`, ''), CASE WHEN NEW.`status` = 'recovered' THEN coalesce(NEW.`recovered_after_step`, '') ELSE '' END, '', 1,
		coalesce(NEW.`mrr_at_risk`, 0))
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`, `amount` = `amount` + excluded.`amount`;
	INSERT INTO `metric_days` (`metric`, `grain`, `period`, `currency`, `k1`, `k2`, `k3`, `k4`, `count`, `amount`)
	SELECT 'dunning.open', g.grain, g.period, coalesce(NEW.`currency`, ''), '', coalesce(NEW.`decline_code`, ''), '', '', -1, -coalesce(NEW.`mrr_at_risk`, 0)
	FROM (SELECT 'd' AS grain, NEW.`closed_day` AS period
		UNION ALL SELECT 'm', CAST(strftime('%Y', NEW.`closed_day` * 86400, 'unixepoch') AS INTEGER) * 12
			+ CAST(strftime('%m', NEW.`closed_day` * 86400, 'unixepoch') AS INTEGER) - 1
		UNION ALL SELECT 'y', CAST(strftime('%Y', NEW.`closed_day` * 86400, 'unixepoch') AS INTEGER)) AS g
	WHERE true
	ON CONFLICT DO UPDATE SET `count` = `count` + excluded.`count`, `amount` = `amount` + excluded.`amount`;
END;--> statement-breakpoint
-- Profiles stored before this migration have nothing counted in metric_days: the tick walks the
-- customers once from this cursor and counts them (worker/tick/legacy-profiles.ts). A new database
-- has no customers and no walk to do.
INSERT INTO `tick_state` (`key`, `value`, `updated_at`)
SELECT 'metrics_legacy_after', 0, 0 WHERE EXISTS (SELECT 1 FROM `customers`);
