ALTER TABLE "platform_health" ADD COLUMN "operator_code" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "platform_state" jsonb;