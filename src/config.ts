// Configuration: the only reader of process.env. One zod schema; every problem is reported at once.
import { z } from 'zod';

const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

export const configSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
        .optional(),
    ),
    DATA_DIR: z.string().min(1).default('.data/pglite'),
    // Named prepared statements on PostgreSQL; `false` behind a pooler that cannot keep them (PgBouncer transaction mode < 1.21).
    DATABASE_PREPARED_STATEMENTS: z
      .enum(['true', 'false'], { message: 'must be true or false' })
      .default('true')
      .transform((v) => v === 'true'),
    LOG_LEVEL: z.enum(logLevels).default('info'),
    TENANT_ID: z.string().min(1).max(64).default('default'),
    GROQ_API_KEY: optionalString,
    GROQ_BASE_URL: optionalString.pipe(z.string().url().optional()),
    VOICE_PROVIDER: optionalString.pipe(z.enum(['groq', 'local']).optional()),
    GROQ_STT_MODEL: z.string().min(1).default('whisper-large-v3-turbo'),
    GROQ_TTS_MODEL: z.string().min(1).default('canopylabs/orpheus-v1-english'),
    GROQ_TTS_VOICE: z.string().min(1).default('troy'),
    GROQ_LLM_MODEL: z.string().min(1).default('openai/gpt-oss-20b'),
    GROQ_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    GROQ_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
    REDIS_URL: optionalString.pipe(z.string().regex(/^rediss?:\/\//, 'must start with redis://').optional()),
    // Response cache lifetime bound (ms); 0 turns the cache off. Entries also end with any data change (cache.ts).
    RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  })
  .transform((env) => ({
    ...env,
    VOICE_PROVIDER: env.VOICE_PROVIDER ?? (env.GROQ_API_KEY ? ('groq' as const) : ('local' as const)),
  }));

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses an environment; throws ConfigError listing every bad variable by name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
