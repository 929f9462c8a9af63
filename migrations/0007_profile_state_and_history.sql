CREATE TABLE `archive_days` (
	`day` integer PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`cursor_customer_id` text,
	`cursor_type` text,
	`parts` integer DEFAULT 0 NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE TABLE `erasures` (
	`customer_key` text PRIMARY KEY NOT NULL,
	`erased_at` integer NOT NULL,
	`archive_days` text NOT NULL,
	`completed_at` integer
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `event_days` (
	`customer_id` text NOT NULL,
	`day` integer NOT NULL,
	`type` text NOT NULL,
	`currency` text NOT NULL,
	`count` integer NOT NULL,
	`amount` integer NOT NULL,
	`latest_at` integer NOT NULL,
	`latest_id` text NOT NULL,
	`latest` text,
	PRIMARY KEY(`customer_id`, `day`, `type`, `currency`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `event_days_day_type` ON `event_days` (`day`,`type`,`customer_id`);--> statement-breakpoint
ALTER TABLE `customers` ADD `profile_state` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `profile_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- A profile write names the version it was computed from plus one; anything else means another
-- request wrote the profile since this one read it, and the whole ingest batch rolls back
-- (worker/ingest/write-events.ts retries it from a fresh read).
CREATE TRIGGER `customers_profile_version_guard` BEFORE UPDATE OF `profile_version` ON `customers`
WHEN NEW.`profile_version` <> OLD.`profile_version` + 1
BEGIN
	SELECT RAISE(ABORT, 'rebound_profile_version_conflict');
END;--> statement-breakpoint
-- The compact history of the events already stored (worker/db/schema/event-days.ts); from here on
-- ingest adds to it. Days are floor(occurred_at / 86,400,000), also before 1970.
INSERT INTO `event_days` (`customer_id`, `day`, `type`, `currency`, `count`, `amount`, `latest_at`, `latest_id`, `latest`)
SELECT customer_id, day, type, currency, count(*), sum(amount),
	max(CASE WHEN rank = 1 THEN occurred_at END), max(CASE WHEN rank = 1 THEN id END),
	max(CASE WHEN rank = 1 AND type LIKE 'subscription.%' THEN json_remove(properties, '$.comment')
	         WHEN rank = 1 AND type LIKE 'payment.%' THEN json_remove(properties, '$.card_last4', '$.update_url')
	         WHEN rank = 1 AND type = 'customer.updated'
	              AND (json_type(properties, '$.plan') IS NOT NULL OR json_type(properties, '$.mrr') IS NOT NULL OR json_type(properties, '$.currency') IS NOT NULL)
	         THEN json_remove(properties, '$.email', '$.first_name', '$.country', '$.timezone', '$.attributes') END)
FROM (
	SELECT customer_id, type, id, occurred_at, properties,
		occurred_at / 86400000 - (occurred_at % 86400000 < 0) AS day,
		coalesce(CASE json_type(properties, '$.currency') WHEN 'text' THEN json_extract(properties, '$.currency') END, '') AS currency,
		CASE json_type(properties, '$.amount') WHEN 'integer' THEN json_extract(properties, '$.amount') ELSE 0 END AS amount,
		row_number() OVER (
			PARTITION BY customer_id, occurred_at / 86400000 - (occurred_at % 86400000 < 0), type,
				coalesce(CASE json_type(properties, '$.currency') WHEN 'text' THEN json_extract(properties, '$.currency') END, '')
			ORDER BY occurred_at DESC, id DESC) AS rank
	FROM events
)
GROUP BY customer_id, day, type, currency;--> statement-breakpoint
-- The archiver seals a day before it moves the day's events to R2 (worker/archive/archive-events.ts):
-- an event dated before the seal could no longer be recognised as a resend, so it is refused, also
-- from a request that read the seal before the archiver moved it.
CREATE TRIGGER `events_sealed_days` BEFORE INSERT ON `events`
WHEN NEW.`occurred_at` < coalesce((SELECT `value` FROM `tick_state` WHERE `key` = 'events_sealed_before'), -9007199254740991)
BEGIN
	SELECT RAISE(ABORT, 'rebound_event_sealed');
END;
