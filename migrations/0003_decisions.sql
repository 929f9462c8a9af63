CREATE TABLE `decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`context` text NOT NULL,
	`reason` text,
	`offer_key` text,
	`reward` text,
	`message` text,
	`reason_code` text NOT NULL,
	`why` text NOT NULL,
	`experiment` text,
	`variant` text,
	`holdout` integer DEFAULT 0 NOT NULL,
	`ruleset_version` text NOT NULL,
	`inputs` text NOT NULL,
	`cost` integer,
	`cost_currency` text,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`status` text NOT NULL,
	`responded_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_one_outstanding` ON `decisions` (`customer_id`) WHERE `status` = 'outstanding';--> statement-breakpoint
CREATE INDEX `decisions_customer_offers` ON `decisions` (`customer_id`,`created_at`) WHERE `offer_key` IS NOT NULL;--> statement-breakpoint
CREATE TABLE `redemptions` (
	`decision_id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`offer_key` text NOT NULL,
	`cost` integer,
	`currency` text,
	`redeemed_at` integer NOT NULL,
	FOREIGN KEY (`decision_id`) REFERENCES `decisions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `redemptions_customer_time` ON `redemptions` (`customer_id`,`redeemed_at`);