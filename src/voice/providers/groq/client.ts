// One groq-sdk client per app, built from configuration: base URL, timeout and retries (the SDK honours retry-after).
import Groq from 'groq-sdk';

export interface GroqOptions {
  apiKey: string;
  baseURL?: string;
  timeoutMs: number;
  maxRetries: number;
}

export function createGroqClient(options: GroqOptions): Groq {
  return new Groq({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
  });
}
