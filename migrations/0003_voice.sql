CREATE TABLE "voice_sessions" (
	"tenant_id" text NOT NULL,
	"session_id" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "voice_sessions_tenant_id_session_id_pk" PRIMARY KEY("tenant_id","session_id")
);
--> statement-breakpoint
CREATE TABLE "voice_turns" (
	"tenant_id" text NOT NULL,
	"turn_id" text NOT NULL,
	"session_id" text NOT NULL,
	"status" text NOT NULL,
	"input_kind" text NOT NULL,
	"transcript" text,
	"response_text" text,
	"error_code" text,
	"error_message" text,
	"timings" jsonb,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "voice_turns_tenant_id_turn_id_pk" PRIMARY KEY("tenant_id","turn_id")
);
--> statement-breakpoint
ALTER TABLE "voice_turns" ADD CONSTRAINT "voice_turns_tenant_id_session_id_voice_sessions_tenant_id_session_id_fk" FOREIGN KEY ("tenant_id","session_id") REFERENCES "public"."voice_sessions"("tenant_id","session_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "voice_turns_session_idx" ON "voice_turns" USING btree ("tenant_id","session_id","started_at");