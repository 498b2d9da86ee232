CREATE TABLE "brand_logos" (
	"user_id" integer PRIMARY KEY NOT NULL,
	"file_name" text NOT NULL,
	"mime_type" text NOT NULL,
	"bytes" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "brand_purposes" (
	"user_id" integer PRIMARY KEY NOT NULL,
	"brand_name" text NOT NULL,
	"products_services" text NOT NULL,
	"core_purpose" text NOT NULL,
	"audience" text NOT NULL,
	"job_to_be_done" text NOT NULL,
	"motivations" text NOT NULL,
	"pain_points" text NOT NULL,
	"goals" jsonb NOT NULL,
	"contact_details" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "generated_by" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "strategic_theme" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "business_canvas_phase" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "engagement_optimisation" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "local_event" text;--> statement-breakpoint
ALTER TABLE "brand_logos" ADD CONSTRAINT "brand_logos_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "brand_purposes" ADD CONSTRAINT "brand_purposes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;