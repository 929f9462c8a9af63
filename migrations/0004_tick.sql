CREATE TABLE `campaign_exclusions` (
	`campaign` text NOT NULL,
	`occurrence` text NOT NULL,
	`step` text NOT NULL,
	`customer_id` text NOT NULL,
	`reason` text NOT NULL,
	`detail` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`campaign`, `occurrence`, `step`, `customer_id`)
);
--> statement-breakpoint
CREATE TABLE `campaign_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign` text NOT NULL,
	`occurrence` text NOT NULL,
	`step` text NOT NULL,
	`offset_ms` integer NOT NULL,
	`due_at` integer NOT NULL,
	`status` text NOT NULL,
	`lease_token` text,
	`lease_expires_at` integer,
	`attempts` integer DEFAULT 1 NOT NULL,
	`cursor` text,
	`stats` text NOT NULL,
	`note` text,
	`claimed_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaign_runs_occurrence_step` ON `campaign_runs` (`campaign`,`occurrence`,`step`,`offset_ms`);--> statement-breakpoint
CREATE INDEX `campaign_runs_status_lease` ON `campaign_runs` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE TABLE `dunning_cases` (
	`customer_id` text NOT NULL,
	`invoice_id` text NOT NULL,
	`cadence` text NOT NULL,
	`status` text NOT NULL,
	`failed_at` integer NOT NULL,
	`amount` integer,
	`currency` text,
	`opened_at` integer NOT NULL,
	`last_step` text,
	`last_step_at` integer,
	`closed_at` integer,
	`recovered_at` integer,
	`mrr_saved` integer,
	`recovered_after_step` text,
	`final_actions` text,
	PRIMARY KEY(`customer_id`, `invoice_id`)
);
--> statement-breakpoint
CREATE INDEX `dunning_cases_open` ON `dunning_cases` (`failed_at`) WHERE "dunning_cases"."status" = 'open';--> statement-breakpoint
CREATE TABLE `tick_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
-- Indexes on customers for the tick, written by hand (drizzle's snapshot does not track them, so a
-- later `drizzle-kit generate` neither repeats nor drops them). Each serves one scan of worker/tick/:
-- campaign audiences seek a status and walk ids in key order (keyset pagination, no sort);
CREATE INDEX `customers_status_id` ON `customers` (`status`,`id`);--> statement-breakpoint
-- win-back steps and range-driven audiences read a window of cancellations;
CREATE INDEX `customers_status_canceled_at` ON `customers` (`status`,`canceled_at`,`id`);--> statement-breakpoint
-- dunning reads only customers with an open failed payment;
CREATE INDEX `customers_open_failure` ON `customers` (`payment_failed_at`) WHERE `payment_failed_at` IS NOT NULL;--> statement-breakpoint
-- card-expiry reminders read a window of expiry dates;
CREATE INDEX `customers_card_expires_at` ON `customers` (`card_expires_at`) WHERE `card_expires_at` IS NOT NULL;--> statement-breakpoint
-- inactivity reads a window of spell starts (the same expression as worker/tick/inactivity.ts).
CREATE INDEX `customers_inactivity_spell` ON `customers` (`status`,coalesce(`last_active_at`,`signed_up_at`,`first_seen_at`));
