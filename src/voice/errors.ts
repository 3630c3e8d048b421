// The errors a voice turn can end with: a stable code for clients, a message a person can act on, and whether to retry.
export type VoiceErrorCode =
  | 'BAD_AUDIO'
  | 'NOT_UNDERSTOOD'
  | 'STT_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'PROVIDER_TIMEOUT'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_AUTH'
  | 'PROVIDER_REJECTED'
  | 'INTERRUPTED'
  | 'CANCELLED'
  | 'INTERNAL';

export class VoiceError extends Error {
  constructor(
    readonly code: VoiceErrorCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'VoiceError';
  }
}

/** Maps an error thrown by groq-sdk (directly or through ChatGroq) to a VoiceError naming the stage that failed. */
export function providerError(stage: string, error: unknown): VoiceError {
  if (error instanceof VoiceError) return error;
  const e = error as { status?: number; name?: string; message?: string; constructor?: { name?: string } };
  const kind = e?.constructor?.name ?? e?.name ?? '';
  const detail = (e?.message ?? String(error)).split('\n')[0].slice(0, 300);
  const status = typeof e?.status === 'number' ? e.status : undefined;
  if (status === 429) return new VoiceError('RATE_LIMITED', `${stage}: the provider is rate limiting us (429) and retries ran out; try again shortly`, true);
  if (status === 401 || status === 403) return new VoiceError('PROVIDER_AUTH', `${stage}: the provider rejected the API key (${status}); check GROQ_API_KEY`, false);
  if (status !== undefined && status >= 500) return new VoiceError('PROVIDER_UNAVAILABLE', `${stage}: the provider failed (${status}) and retries ran out: ${detail}`, true);
  if (status !== undefined && status >= 400) return new VoiceError('PROVIDER_REJECTED', `${stage}: the provider rejected the request (${status}): ${detail}`, false);
  if (/Timeout/i.test(kind) || /timed? ?out/i.test(detail)) return new VoiceError('PROVIDER_TIMEOUT', `${stage}: the provider did not answer in time (GROQ_TIMEOUT_MS)`, true);
  if (/Connection/i.test(kind)) return new VoiceError('PROVIDER_UNAVAILABLE', `${stage}: could not reach the provider (check GROQ_BASE_URL / network): ${detail}`, true);
  return new VoiceError('INTERNAL', `${stage}: ${detail}`, false);
}
