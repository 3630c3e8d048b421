// Configuration: the only reader of process.env. One zod schema; every problem is reported at once.
import { z } from 'zod';
import { DEFAULT_LIMITS } from './server/limits';

const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** A true/false variable, with its default. */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');

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
    DATABASE_PREPARED_STATEMENTS: flag(true),
    // PostgreSQL connections per instance: DATABASE_POOL_SIZE for queries (postgres.js), AGENT_MEMORY_POOL_SIZE for the
    // agent's conversation memory (a pg Pool). Keep replicas × (both) under the server's max_connections.
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
    AGENT_MEMORY_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(4),
    // Seconds to wait for a new PostgreSQL connection: during an outage a request fails after this, not after 30 s.
    DATABASE_CONNECT_TIMEOUT_S: z.coerce.number().positive().max(300).default(5),
    LOG_LEVEL: z.enum(logLevels).default('info'),
    // Serve Prometheus /metrics only on this port, without authentication (the main port then answers 404 for it);
    // unset: /metrics on the main port, public like /health. Set it in production and keep the port private.
    METRICS_PORT: optionalString.pipe(z.coerce.number<string | undefined>().int().min(0).max(65535).optional()),
    // The single tenant of every request when auth is off.
    TENANT_ID: z.string().min(1).max(64).default('default'),
    NODE_ENV: optionalString,
    // Identity (server/auth.ts): an HS256 secret or a JWKS URL (RS256/ES256); neither means no auth (default tenant).
    AUTH_JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters (HS256 needs a 256-bit secret)').optional()),
    AUTH_JWKS_URL: optionalString.pipe(z.string().url('must be a URL').optional()),
    AUTH_ISSUER: optionalString,
    AUTH_AUDIENCE: optionalString,
    AUTH_TENANT_CLAIM: z.string().min(1).default('tenant'),
    AUTH_ROLES_CLAIM: z.string().min(1).default('roles'),
    AUTH_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(5),
    // An allow-list of operations (server/allow-list.ts): .graphql files, a directory of them, or a JSON manifest. Strict:
    // only listed operations run; otherwise unlisted ones run and are logged once each.
    OPERATIONS_ALLOW_LIST: optionalString,
    OPERATIONS_STRICT: flag(false),
    // Says on purpose that a production server runs without auth (every request is TENANT_ID's, with every role).
    AUTH_DISABLED: flag(false),
    GROQ_API_KEY: optionalString,
    GROQ_BASE_URL: optionalString.pipe(z.string().url().optional()),
    VOICE_PROVIDER: optionalString.pipe(z.enum(['groq', 'local']).optional()),
    GROQ_STT_MODEL: z.string().min(1).default('whisper-large-v3-turbo'),
    GROQ_TTS_MODEL: z.string().min(1).default('canopylabs/orpheus-v1-english'),
    GROQ_TTS_VOICE: z.string().min(1).default('troy'),
    GROQ_LLM_MODEL: z.string().min(1).default('openai/gpt-oss-20b'),
    GROQ_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    GROQ_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
    // Voice-turn limits (each turn costs provider money); 0 turns that limit off. A per-minute limit is a token bucket
    // whose burst equals its per-minute rate; with REDIS_URL the limits hold across instances (voice/turn-limits.ts).
    VOICE_TURNS_PER_MINUTE_PER_TENANT: z.coerce.number().int().min(0).max(1_000_000).default(60),
    VOICE_TURNS_PER_MINUTE_PER_SUBJECT: z.coerce.number().int().min(0).max(1_000_000).default(10),
    VOICE_MAX_RUNNING_TURNS_PER_TENANT: z.coerce.number().int().min(0).max(100_000).default(8),
    REDIS_URL: optionalString.pipe(z.string().regex(/^rediss?:\/\//, 'must start with redis://').optional()),
    // Response cache lifetime bound (ms); 0 turns the cache off. Entries also end with any data change (cache.ts).
    RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
    // On SIGTERM: how long running voice turns may take to finish before they are interrupted (see src/shutdown.ts).
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
    // Request limits (server/limits.ts): refused as validation errors with extensions.code; the body limit answers 413
    // while the body streams in. GraphiQL and introspection are for development: switch them off in production
    // (introspection off also hides "Did you mean" suggestions). CORS_ORIGINS: comma-separated origins answered with
    // credentials, "*" for any other origin without credentials; empty: no cross-origin access.
    LIMIT_MAX_DEPTH: z.coerce.number().int().min(1).max(1000).default(DEFAULT_LIMITS.maxDepth),
    LIMIT_MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_LIMITS.maxAliases),
    LIMIT_MAX_TOKENS: z.coerce.number().int().min(10).max(1_000_000).default(DEFAULT_LIMITS.maxTokens),
    LIMIT_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_LIMITS.maxDirectives),
    LIMIT_MAX_COST: z.coerce.number().int().min(1).max(10_000_000).default(DEFAULT_LIMITS.maxCost),
    MAX_REQUEST_BODY_BYTES: z.coerce.number().int().min(1024).max(1024 ** 3).default(DEFAULT_LIMITS.maxRequestBodyBytes),
    // Query documents run this many times are compiled (graphql-jit, server/compiled-queries.ts); 0: never.
    COMPILE_QUERIES_AFTER: z.coerce.number().int().min(0).max(1_000_000).default(2),
    GRAPHIQL: flag(true),
    INTROSPECTION: flag(true),
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
      .pipe(z.array(z.string().refine(isOrigin, { message: 'must be comma-separated origins such as https://app.example.com (no path), or *' }))),
  })
  .superRefine((env, ctx) => {
    if (env.AUTH_JWT_SECRET && env.AUTH_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWKS_URL'], message: 'set either AUTH_JWT_SECRET or AUTH_JWKS_URL, not both' });
    }
    if (env.OPERATIONS_STRICT && !env.OPERATIONS_ALLOW_LIST) {
      ctx.addIssue({ code: 'custom', path: ['OPERATIONS_STRICT'], message: 'is true without OPERATIONS_ALLOW_LIST: name the file of allowed operations' });
    }
    if ((env.AUTH_JWT_SECRET || env.AUTH_JWKS_URL) && env.AUTH_DISABLED) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_DISABLED'], message: 'is true while AUTH_JWT_SECRET or AUTH_JWKS_URL is set; choose one' });
    }
    if (env.NODE_ENV === 'production' && !env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL && !env.AUTH_DISABLED) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: 'NODE_ENV=production needs auth: set AUTH_JWT_SECRET or AUTH_JWKS_URL (or AUTH_DISABLED=true to serve every request as TENANT_ID on purpose)',
      });
    }
  })
  .transform((env) => ({
    ...env,
    VOICE_PROVIDER: env.VOICE_PROVIDER ?? (env.GROQ_API_KEY ? ('groq' as const) : ('local' as const)),
  }));

export type Config = z.infer<typeof configSchema>;

/** "*" or a bare origin (scheme, host, port; no path or trailing slash), as browsers send it in Origin. */
function isOrigin(value: string): boolean {
  if (value === '*') return true;
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

export class ConfigError extends Error {}

/** Parses an environment; throws ConfigError listing every bad variable by name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
