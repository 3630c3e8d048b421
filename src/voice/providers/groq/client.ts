// One groq-sdk client per app, built from configuration: base URL, timeout and retries (the SDK honours retry-after).
import Groq from 'groq-sdk';

export interface GroqOptions {
  apiKey: string;
  baseURL?: string;
  timeoutMs: number;
  maxRetries: number;
  /** Told of every HTTP request the SDK sends (metrics: provider requests, retries and failures). */
  onRequest?: ProviderRequestObserver;
}

/** One request to the provider: which endpoint, how it ended (HTTP status, or 'network_error'), and whether it was a retry. */
export type ProviderRequestObserver = (request: { endpoint: string; outcome: string; retry: boolean }) => void;

/**
 * groq-sdk's `fetch` option, counting each request: the SDK numbers its attempts in the X-Stainless-Retry-Count header
 * (0 for the first), so retries are told apart from first attempts without reaching into the SDK.
 */
export function observedFetch(onRequest: ProviderRequestObserver | undefined): typeof fetch | undefined {
  if (!onRequest) return undefined;
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const endpoint = url.pathname.replace(/^\/openai\/v1\//, '');
    const retry = Number(new Headers(init?.headers).get('x-stainless-retry-count') ?? '0') > 0;
    try {
      const response = await fetch(input, init);
      onRequest({ endpoint, outcome: String(response.status), retry });
      return response;
    } catch (error) {
      onRequest({ endpoint, outcome: 'network_error', retry });
      throw error;
    }
  };
}

export function createGroqClient(options: GroqOptions): Groq {
  return new Groq({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
    fetch: observedFetch(options.onRequest),
  });
}
