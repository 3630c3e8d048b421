// The Groq chat model (ChatGroq). Retries live in groq-sdk, which honours retry-after on 429; LangChain's own retry
// loop (fixed backoff, no retry-after) is switched off so a 429 is retried once per policy, not twice over.
import { ChatGroq } from '@langchain/groq';
import Groq from 'groq-sdk';

export interface GroqModelOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  /** groq-sdk's fetch (voice/providers/groq/client.ts observedFetch: metrics); the platform's when absent. */
  fetch?: typeof fetch;
}

export function createGroqChatModel(options: GroqModelOptions): ChatGroq {
  const model = new ChatGroq({
    apiKey: options.apiKey,
    baseUrl: options.baseURL,
    model: options.model,
    temperature: 0.2,
    timeout: options.timeoutMs,
    maxRetries: 0,
    streaming: true,
  });
  model.client = new Groq({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
    defaultHeaders: { 'User-Agent': 'langchainjs' },
    fetch: options.fetch,
  });
  return model;
}
