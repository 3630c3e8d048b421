// Who is asking: bearer JWTs verified with jose (an HS256 secret, or RS256/ES256 keys from a JWKS URL) and turned into
// an Identity (tenant, subject, roles). Without auth configured, every request is the single default tenant's.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { GraphQLContext, Identity, Role } from '../schema/context';

export const ROLES: readonly Role[] = ['viewer', 'voice'];

export interface AuthOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** JWKS endpoint for RS256/ES256 keys. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Claim naming the tenant (default `tenant`). */
  tenantClaim?: string;
  /** Claim holding the roles: an array or a space-separated string (default `roles`). */
  rolesClaim?: string;
  /**
   * Least time between two fetches of the JWKS (default 30 s): a token with an unknown `kid` refetches the set, and
   * this keeps made-up kids from turning every request into a fetch.
   */
  jwksCooldownMs?: number;
  /** Seconds of clock skew allowed on exp and nbf (default 5). */
  clockToleranceSeconds?: number;
  /** The identity of every request when neither secret nor jwksUrl is set. */
  defaultTenant: string;
}

/** A request that did not prove who it is. `reason` is for the log only: clients get one generic message. */
export class AuthenticationError extends Error {
  constructor(
    readonly reason: string,
    /** Whether a token was presented (RFC 6750: `error="invalid_token"` then). */
    readonly tokenPresented: boolean,
  ) {
    super('Authentication required: send a valid bearer token in the Authorization header.');
  }
}

/** The keys to check a token with could not be had (the JWKS endpoint is down or answers garbage): 503, not 401. */
export class AuthUnavailableError extends Error {
  constructor(readonly reason: string) {
    super('Authentication is unavailable for a moment (the signing keys cannot be fetched); retry shortly.');
  }
}

/** A failure of the key source rather than of the token. */
function keysUnavailable(error: unknown): boolean {
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return true;
  if (!(error instanceof joseErrors.JOSEError)) return true; // fetch itself failed (refused, reset, DNS)
  return /Expected 200 OK from the JSON Web Key Set/.test(error.message);
}

export interface Authenticator {
  /** False when no auth is configured (every request is the default tenant's, with every role). */
  enabled: boolean;
  /** Without auth, the identity of every request (also of in-process calls such as yoga.fetch); null with auth. */
  defaultIdentity: Identity | null;
  /** Verifies an `Authorization` header value (`Bearer …`); throws AuthenticationError, or AuthUnavailableError. */
  authenticate(authorization: string | null | undefined): Promise<Identity>;
}

/** Verified tokens kept (see `verified` below), and for how long at most. */
const VERIFIED_TOKENS_MAX = 10_000;
const VERIFIED_TOKEN_MS = 60_000;

const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i;
const TENANT = /^[\w.:@-]{1,64}$/;

/** The WWW-Authenticate header of a 401 (RFC 6750). */
export function wwwAuthenticate(error: AuthenticationError): string {
  return error.tokenPresented ? 'Bearer error="invalid_token"' : 'Bearer';
}

function rolesOf(value: unknown): Set<Role> {
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/\s+/) : [];
  return new Set(names.filter((name): name is Role => ROLES.includes(name as Role)));
}

/** Why a token was refused, in words for the log. */
function describe(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} failed: ${error.reason}`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key matches the token';
  if (error instanceof joseErrors.JOSEError) return `${error.code}: ${error.message}`;
  return (error as Error)?.message ?? String(error);
}

export function createAuthenticator(options: AuthOptions): Authenticator {
  const tenantClaim = options.tenantClaim ?? 'tenant';
  const rolesClaim = options.rolesClaim ?? 'roles';
  if (options.secret && options.jwksUrl) throw new Error('auth: set either a JWT secret or a JWKS URL, not both');

  if (!options.secret && !options.jwksUrl) {
    const identity: Identity = { tenantId: options.defaultTenant, subject: 'anonymous', roles: new Set(ROLES), expiresAt: null };
    return { enabled: false, defaultIdentity: identity, authenticate: async () => identity };
  }

  // Algorithms are pinned by the kind of key: a secret verifies HS256 only, a JWKS RS256/ES256 only, so a token can
  // never pick its own algorithm (no `none`, no HS256 signed with a public key).
  const key: Uint8Array | JWTVerifyGetKey = options.secret
    ? new TextEncoder().encode(options.secret)
    : // Keys are cached; a token with an unknown `kid` makes jose fetch the set again (at most every 30 s).
      createRemoteJWKSet(new URL(options.jwksUrl!), { timeoutDuration: 5000, cooldownDuration: options.jwksCooldownMs ?? 30_000, cacheMaxAge: 10 * 60_000 });
  const toleranceMs = (options.clockToleranceSeconds ?? 5) * 1000;
  const verifyOptions = {
    algorithms: options.secret ? ['HS256'] : ['RS256', 'ES256'],
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSeconds ?? 5,
    requiredClaims: ['sub', 'exp'],
  };

  // Tokens already verified: a client sends the same token with every request, and jose's signature check (WebCrypto,
  // asynchronous) costs about 250 µs, a third of a small query's CPU. The signature of a given token string never
  // changes; the clock claims are checked again on every use, and an entry lives at most a minute, so a key removed
  // from the JWKS stops working within a minute.
  const verified = new Map<string, { identity: Identity; notBefore: number | null; until: number }>();
  const remember = (token: string, identity: Identity, notBefore: number | null) => {
    if (verified.size >= VERIFIED_TOKENS_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(token, { identity, notBefore, until: Date.now() + VERIFIED_TOKEN_MS });
  };

  return {
    enabled: true,
    defaultIdentity: null,
    async authenticate(authorization) {
      if (!authorization) throw new AuthenticationError('no Authorization header', false);
      const match = BEARER.exec(authorization.trim());
      if (!match) throw new AuthenticationError('Authorization is not a bearer JWT', true);
      const token = match[1];
      const now = Date.now();
      const known = verified.get(token);
      if (known && now < known.until) {
        if (now - toleranceMs >= known.identity.expiresAt!) throw new AuthenticationError('token expired', true);
        if (known.notBefore !== null && now + toleranceMs < known.notBefore) throw new AuthenticationError('token not valid yet', true);
        return known.identity;
      }
      let payload: JWTPayload;
      try {
        payload = (await jwtVerify(token, key as JWTVerifyGetKey, verifyOptions)).payload;
      } catch (error) {
        if (!options.secret && keysUnavailable(error)) throw new AuthUnavailableError(describe(error));
        throw new AuthenticationError(describe(error), true);
      }
      const tenant = payload[tenantClaim];
      if (typeof tenant !== 'string' || !TENANT.test(tenant)) throw new AuthenticationError(`claim ${tenantClaim} is missing or not a tenant id`, true);
      const identity: Identity = { tenantId: tenant, subject: payload.sub!, roles: rolesOf(payload[rolesClaim]), expiresAt: payload.exp! * 1000 };
      remember(token, identity, typeof payload.nbf === 'number' ? payload.nbf * 1000 : null);
      return identity;
    },
  };
}

/** A signed-in caller with neither role may not run anything (voiceTurn also checks for `voice` itself). */
function forbiddenResult() {
  return { errors: [new GraphQLError('Forbidden: your token has neither the viewer nor the voice role.', { extensions: { code: 'FORBIDDEN' } })] };
}

const mayRead = (identity: Identity | undefined) => !!identity && (identity.roles.has('viewer') || identity.roles.has('voice'));

/** Envelop plugin: every operation, on every transport, needs the viewer (or voice) role. */
export function useRoles(): Plugin<GraphQLContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (!mayRead(args.contextValue.identity)) setResultAndStopExecution(forbiddenResult());
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (!mayRead(args.contextValue.identity)) setResultAndStopExecution(forbiddenResult());
    },
  };
}
