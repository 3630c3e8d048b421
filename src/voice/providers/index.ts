// Which speech and language providers the voice service uses, chosen from configuration (VOICE_PROVIDER) in main.ts:
// Groq (speech-to-text, text-to-speech and the chat model through groq-sdk and ChatGroq) or the offline ones
// (pocketsphinx with the domain grammar, espeak-ng, the rule-based intent model). Tests replace single providers.
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { createGroqChatModel } from '../../agent/groq-model';
import { domainGrammar } from '../../agent/intents';
import { LocalIntentModel } from '../../agent/local-model';
import type { Config } from '../../config';
import type { Connectors } from '../../connectors';
import type { Logger } from '../../logger';
import { type ProviderRequestObserver, createGroqClient, observedFetch } from './groq/client';
import { createGroqStt } from './groq/stt';
import { createGroqTts } from './groq/tts';
import { createLocalStt } from './local/stt';
import { createLocalTts } from './local/tts';
import type { SttProvider, TtsProvider } from './types';

export type VoiceConfig = Pick<
  Config,
  | 'VOICE_PROVIDER'
  | 'GROQ_API_KEY'
  | 'GROQ_BASE_URL'
  | 'GROQ_STT_MODEL'
  | 'GROQ_TTS_MODEL'
  | 'GROQ_TTS_VOICE'
  | 'GROQ_LLM_MODEL'
  | 'GROQ_TIMEOUT_MS'
  | 'GROQ_MAX_RETRIES'
>;

export interface VoiceProviders {
  name: 'groq' | 'local';
  stt: SttProvider;
  tts: TtsProvider;
  model: BaseChatModel;
  /** What this server can do, for clients (Query.voiceCapabilities) and logs. */
  capabilities: { speechToText: string | null; textToSpeech: string | null; model: string; maxChunkCharacters: number };
}

/** Providers to use instead of the configured ones (tests, or another vendor). */
export type ProviderOverrides = Partial<Pick<VoiceProviders, 'stt' | 'tts' | 'model'>>;

export function createVoiceProviders(
  config: VoiceConfig,
  deps: { connectors: Connectors; log: Logger; onProviderRequest?: ProviderRequestObserver },
  overrides: ProviderOverrides = {},
): VoiceProviders {
  const { connectors, log } = deps;
  const name = config.VOICE_PROVIDER;
  if (name === 'groq') {
    if (!config.GROQ_API_KEY && !(overrides.stt && overrides.tts && overrides.model)) {
      throw new Error('VOICE_PROVIDER=groq needs GROQ_API_KEY; set it, or set VOICE_PROVIDER=local for the offline providers');
    }
    const groqOptions = {
      apiKey: config.GROQ_API_KEY ?? 'unused',
      baseURL: config.GROQ_BASE_URL,
      timeoutMs: config.GROQ_TIMEOUT_MS,
      maxRetries: config.GROQ_MAX_RETRIES,
    };
    const client = createGroqClient({ ...groqOptions, onRequest: deps.onProviderRequest });
    const tts = overrides.tts ?? createGroqTts(client, { model: config.GROQ_TTS_MODEL, voice: config.GROQ_TTS_VOICE });
    return {
      name,
      stt: overrides.stt ?? createGroqStt(client, { model: config.GROQ_STT_MODEL }),
      tts,
      model: overrides.model ?? createGroqChatModel({ ...groqOptions, model: config.GROQ_LLM_MODEL, fetch: observedFetch(deps.onProviderRequest) }),
      capabilities: {
        speechToText: `groq ${config.GROQ_STT_MODEL}`,
        textToSpeech: `groq ${config.GROQ_TTS_MODEL}`,
        model: `groq ${config.GROQ_LLM_MODEL}`,
        maxChunkCharacters: tts.maxChars,
      },
    };
  }

  // Vocabulary of the tenant a turn runs for (metric and customer names): the local recogniser and intent model need it.
  const metricNames = (tenantId: string | undefined) => (tenantId ? connectors.metrics.names(tenantId).catch(() => [] as string[]) : Promise.resolve([]));
  const customerNames = (tenantId: string | undefined) => (tenantId ? connectors.customers.names(tenantId).catch(() => [] as string[]) : Promise.resolve([]));
  const localStt = createLocalStt({
    grammar: async (known, tenantId) => {
      const [metrics, names] = await Promise.all([metricNames(tenantId), customerNames(tenantId)]);
      return domainGrammar({ metricNames: metrics, customerNames: names }, known);
    },
  });
  const localTts = createLocalTts();
  if (localStt.unavailableReason) log.warn('voice: audio turns are unavailable', { reason: localStt.unavailableReason });
  if (!localTts.available) log.warn('voice: espeak-ng is not installed; answers come as text events without audio (apt-get install espeak-ng)');
  const tts = overrides.tts ?? localTts;
  return {
    name,
    stt: overrides.stt ?? localStt,
    tts,
    model: overrides.model ?? new LocalIntentModel({ metricNames }),
    capabilities: {
      speechToText: localStt.unavailableReason ? null : 'pocketsphinx (domain grammar)',
      textToSpeech: localTts.available ? 'espeak-ng' : null,
      model: 'local intent model',
      maxChunkCharacters: tts.maxChars,
    },
  };
}
