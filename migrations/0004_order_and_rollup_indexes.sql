DROP INDEX "metric_points_date_idx";--> statement-breakpoint
DROP INDEX "tickets_priority_order_idx";--> statement-breakpoint
DROP INDEX "tickets_status_priority_order_idx";--> statement-breakpoint
DROP INDEX "tickets_customer_priority_order_idx";--> statement-breakpoint
DROP INDEX "tickets_created_idx";--> statement-breakpoint
DROP INDEX "tickets_status_created_idx";--> statement-breakpoint
CREATE INDEX "customer_counts_filter_idx" ON "customer_counts" USING btree ("tenant_id","status","day","n");--> statement-breakpoint
CREATE INDEX "ticket_counts_filter_idx" ON "ticket_counts" USING btree ("tenant_id","status","priority","day","n");--> statement-breakpoint
CREATE INDEX "metric_points_date_idx" ON "metric_points" USING btree ("tenant_id","date" DESC NULLS FIRST,"metric");--> statement-breakpoint
CREATE INDEX "tickets_priority_order_idx" ON "tickets" USING btree ("tenant_id","priority_rank","created_at" DESC NULLS FIRST,"ticket_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "tickets_status_priority_order_idx" ON "tickets" USING btree ("tenant_id","status","priority_rank","created_at" DESC NULLS FIRST,"ticket_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "tickets_customer_priority_order_idx" ON "tickets" USING btree ("tenant_id","customer_id","priority_rank","created_at" DESC NULLS FIRST,"ticket_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "tickets_created_idx" ON "tickets" USING btree ("tenant_id","created_at" DESC NULLS FIRST,"ticket_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "tickets_status_created_idx" ON "tickets" USING btree ("tenant_id","status","created_at" DESC NULLS FIRST,"ticket_id" DESC NULLS FIRST);