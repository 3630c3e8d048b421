ALTER TABLE "voice_turns" DROP CONSTRAINT "voice_turns_tenant_id_session_id_voice_sessions_tenant_id_session_id_fk";
--> statement-breakpoint
DROP INDEX "voice_turns_session_idx";--> statement-breakpoint
ALTER TABLE "voice_sessions" DROP CONSTRAINT "voice_sessions_tenant_id_session_id_pk";--> statement-breakpoint
ALTER TABLE "voice_sessions" ADD CONSTRAINT "voice_sessions_tenant_id_subject_session_id_pk" PRIMARY KEY("tenant_id","subject","session_id");--> statement-breakpoint
ALTER TABLE "voice_turns" ADD CONSTRAINT "voice_turns_tenant_id_subject_session_id_voice_sessions_tenant_id_subject_session_id_fk" FOREIGN KEY ("tenant_id","subject","session_id") REFERENCES "public"."voice_sessions"("tenant_id","subject","session_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "voice_turns_session_idx" ON "voice_turns" USING btree ("tenant_id","subject","session_id","started_at");