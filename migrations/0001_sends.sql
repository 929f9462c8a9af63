CREATE TABLE `outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`recipient` text,
	`message_key` text NOT NULL,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`html` text,
	`programme_kind` text NOT NULL,
	`programme_key` text NOT NULL,
	`occurrence` text NOT NULL,
	`step` text NOT NULL,
	`delivered_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbox_customer_id` ON `outbox` (`customer_id`,`id`);--> statement-breakpoint
CREATE TABLE `sends` (
	`id` text PRIMARY KEY NOT NULL,
	`programme_kind` text NOT NULL,
	`programme_key` text NOT NULL,
	`occurrence` text NOT NULL,
	`step` text NOT NULL,
	`customer_id` text NOT NULL,
	`channel` text NOT NULL,
	`message_key` text NOT NULL,
	`recipient` text,
	`variables` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`provider_message_id` text,
	`not_before` integer NOT NULL,
	`created_at` integer NOT NULL,
	`enqueued_at` integer,
	`lease_expires_at` integer,
	`next_attempt_at` integer,
	`sent_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sends_programme_occurrence_step_customer` ON `sends` (`programme_kind`,`programme_key`,`occurrence`,`step`,`customer_id`);--> statement-breakpoint
CREATE INDEX `sends_status_id` ON `sends` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `sends_unpublished` ON `sends` (`not_before`) WHERE status = 'queued' AND enqueued_at IS NULL;