CREATE TYPE "public"."customer_status" AS ENUM('active', 'inactive');--> statement-breakpoint
CREATE TYPE "public"."ticket_priority" AS ENUM('high', 'medium', 'low');--> statement-breakpoint
CREATE TYPE "public"."ticket_status" AS ENUM('open', 'closed');--> statement-breakpoint
CREATE TABLE "customer_counts" (
	"tenant_id" text NOT NULL,
	"day" date NOT NULL,
	"status" "customer_status" NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "customer_counts_tenant_id_day_status_pk" PRIMARY KEY("tenant_id","day","status")
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"tenant_id" text NOT NULL,
	"customer_id" integer NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"status" "customer_status" NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_tenant_id_customer_id_pk" PRIMARY KEY("tenant_id","customer_id")
);
--> statement-breakpoint
CREATE TABLE "data_changes" (
	"tenant_id" text NOT NULL,
	"source" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"version" bigint DEFAULT 1 NOT NULL,
	CONSTRAINT "data_changes_tenant_id_source_pk" PRIMARY KEY("tenant_id","source")
);
--> statement-breakpoint
CREATE TABLE "metric_points" (
	"tenant_id" text NOT NULL,
	"metric" text NOT NULL,
	"date" date NOT NULL,
	"value" double precision NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "metric_points_tenant_id_metric_date_pk" PRIMARY KEY("tenant_id","metric","date")
);
--> statement-breakpoint
CREATE TABLE "ticket_counts" (
	"tenant_id" text NOT NULL,
	"day" date NOT NULL,
	"status" "ticket_status" NOT NULL,
	"priority" "ticket_priority" NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "ticket_counts_tenant_id_day_status_priority_pk" PRIMARY KEY("tenant_id","day","status","priority")
);
--> statement-breakpoint
CREATE TABLE "tickets" (
	"tenant_id" text NOT NULL,
	"ticket_id" integer NOT NULL,
	"customer_id" integer NOT NULL,
	"subject" text NOT NULL,
	"priority" "ticket_priority" NOT NULL,
	"priority_rank" smallint GENERATED ALWAYS AS (CASE priority WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END) STORED NOT NULL,
	"status" "ticket_status" NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tickets_tenant_id_ticket_id_pk" PRIMARY KEY("tenant_id","ticket_id")
);
--> statement-breakpoint
ALTER TABLE "tickets" ADD CONSTRAINT "tickets_tenant_id_customer_id_customers_tenant_id_customer_id_fk" FOREIGN KEY ("tenant_id","customer_id") REFERENCES "public"."customers"("tenant_id","customer_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customers_status_idx" ON "customers" USING btree ("tenant_id","status","customer_id");--> statement-breakpoint
CREATE INDEX "customers_created_idx" ON "customers" USING btree ("tenant_id","created_at","customer_id");--> statement-breakpoint
CREATE INDEX "customers_status_created_idx" ON "customers" USING btree ("tenant_id","status","created_at","customer_id");--> statement-breakpoint
CREATE INDEX "customers_name_idx" ON "customers" USING btree ("tenant_id","name","customer_id");--> statement-breakpoint
CREATE INDEX "customers_name_trgm_idx" ON "customers" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "customers_email_trgm_idx" ON "customers" USING gin ("email" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "metric_points_date_idx" ON "metric_points" USING btree ("tenant_id","date" DESC NULLS LAST,"metric");--> statement-breakpoint
CREATE INDEX "tickets_priority_order_idx" ON "tickets" USING btree ("tenant_id","priority_rank","created_at" DESC NULLS LAST,"ticket_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_status_priority_order_idx" ON "tickets" USING btree ("tenant_id","status","priority_rank","created_at" DESC NULLS LAST,"ticket_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_customer_priority_order_idx" ON "tickets" USING btree ("tenant_id","customer_id","priority_rank","created_at" DESC NULLS LAST,"ticket_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_created_idx" ON "tickets" USING btree ("tenant_id","created_at" DESC NULLS LAST,"ticket_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_status_created_idx" ON "tickets" USING btree ("tenant_id","status","created_at" DESC NULLS LAST,"ticket_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_subject_trgm_idx" ON "tickets" USING gin ("subject" gin_trgm_ops);