CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`key_prefix` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text,
	`first_name` text,
	`country` text,
	`timezone` text,
	`plan` text,
	`mrr` integer,
	`currency` text,
	`status` text NOT NULL,
	`signed_up_at` integer,
	`canceled_at` integer,
	`churn_reason` text,
	`churn_comment` text,
	`reactivated_at` integer,
	`last_active_at` integer,
	`ltv` integer DEFAULT 0 NOT NULL,
	`order_count` integer DEFAULT 0 NOT NULL,
	`order_total` integer DEFAULT 0 NOT NULL,
	`aov` integer,
	`referrals` integer DEFAULT 0 NOT NULL,
	`nps` integer,
	`open_tickets` integer DEFAULT 0 NOT NULL,
	`last_ticket_satisfied` integer,
	`payment_failed_at` integer,
	`failed_invoice_id` text,
	`failed_amount` integer,
	`decline_code` text,
	`card_last4` text,
	`update_url` text,
	`card_expires_at` integer,
	`attributes` text DEFAULT '{}' NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_event_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`type` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`properties` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_customer_type_time` ON `events` (`customer_id`,`type`,`occurred_at`);