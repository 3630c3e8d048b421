ALTER TABLE "voice_sessions" ADD COLUMN "subject" text DEFAULT 'anonymous' NOT NULL;--> statement-breakpoint
ALTER TABLE "voice_turns" ADD COLUMN "subject" text DEFAULT 'anonymous' NOT NULL;