-- Trigram indexes serve case-insensitive substring search (ILIKE '%...%') on names, emails and subjects.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
