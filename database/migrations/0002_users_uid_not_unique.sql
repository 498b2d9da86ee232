DROP INDEX "users_uid_key";--> statement-breakpoint
CREATE INDEX "users_uid_idx" ON "users" USING btree ("uid");