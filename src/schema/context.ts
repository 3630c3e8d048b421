// The per-request GraphQL context: who is asking (identity: tenant, subject, roles), a request id for logs, and the
// app's services.
import type { Connectors } from '../connectors';
import type { VoiceService } from '../voice/service';
import type { Logger } from '../logger';

/** viewer: queries and the caller's own voice sessions; voice: also runs voice turns. */
export type Role = 'viewer' | 'voice';

/** Who a request comes from, proven by its token (or the default tenant when auth is off). */
export interface Identity {
  tenantId: string;
  /** The token's `sub`: owns the voice sessions it starts. */
  subject: string;
  roles: ReadonlySet<Role>;
  /** When the token stops being valid (ms since the epoch); null without auth. */
  expiresAt: number | null;
}

/**
 * The field extension by which a subscription field says that one execution per event serves every subscriber of the
 * same operation (server/shared-subscriptions.ts applies it).
 */
export const SHARED_EVENT_RESULTS = 'sharedEventResults';

/** A client's x-request-id is used in logs and messages only when it looks like one. */
export const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** What the app holds for every request; built once in buildApp. */
export interface AppServices {
  connectors: Connectors;
  log: Logger;
  /** The tenant of every request when auth is off. */
  tenantId: string;
  /** The voice pipeline (src/voice); absent when the app runs without it. */
  voice?: VoiceService;
}

export interface GraphQLContext extends AppServices {
  requestId: string;
  identity: Identity;
  /** The caller's tenant (identity.tenantId): every read and write is scoped to it. */
  tenantId: string;
}

/**
 * A value made once per request (per context object) by `create`, as Pothos's createContextCache makes one, but kept
 * on the context object itself under a symbol of its own: a WeakMap keyed by a new context on every request costs the
 * garbage collector a few µs per request and cache (bench/README.md, "WeakMaps per request").
 */
export function requestScoped<T>(create: (ctx: GraphQLContext) => T): (ctx: GraphQLContext) => T {
  const slot = Symbol('requestScoped');
  return (ctx) => {
    const held = ctx as unknown as Record<symbol, T>;
    if (slot in held) return held[slot];
    const value = create(ctx);
    held[slot] = value;
    return value;
  };
}
