-- Billing-provider webhooks (worker/providers/, docs/providers.md): every delivered event counted by
-- provider, event type, outcome and UTC day, one UPSERT per delivery. WITHOUT ROWID: the key is the row.
CREATE TABLE `provider_event_counts` (
	`provider` text NOT NULL,
	`event_type` text NOT NULL,
	`outcome` text NOT NULL,
	`day` text NOT NULL,
	`count` integer NOT NULL,
	`last_received_at` integer NOT NULL,
	PRIMARY KEY(`provider`, `event_type`, `outcome`, `day`)
) WITHOUT ROWID;--> statement-breakpoint
-- Deliveries that map to nothing yet (unmapped plan or reason) or that ingest refused, kept with their
-- verified raw body so POST /v1/admin/provider-events/replay can map them again under the current
-- rules: keyed by the provider's event id (a redelivery updates the row), erased with the customer.
CREATE TABLE `provider_held_events` (
	`provider` text NOT NULL,
	`provider_event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`customer_id` text NOT NULL,
	`outcome` text NOT NULL,
	`details` text NOT NULL,
	`payload` text NOT NULL,
	`received_at` integer NOT NULL,
	`last_attempt_at` integer NOT NULL,
	`attempts` integer NOT NULL,
	PRIMARY KEY(`provider`, `provider_event_id`)
);
--> statement-breakpoint
CREATE INDEX `provider_held_events_received` ON `provider_held_events` (`received_at`,`provider`,`provider_event_id`);--> statement-breakpoint
CREATE INDEX `provider_held_events_customer` ON `provider_held_events` (`customer_id`);