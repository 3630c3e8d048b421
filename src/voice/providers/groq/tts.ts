// Text-to-speech through Groq's speech endpoint (groq-sdk): one WAV per chunk of at most 200 characters (Orpheus's limit).
import type Groq from 'groq-sdk';
import { decodeWav } from '../../audio';
import { VoiceError, providerError } from '../../errors';
import type { TtsProvider } from '../types';

export const GROQ_TTS_MAX_CHARS = 200;

export function createGroqTts(client: Groq, options: { model: string; voice: string }): TtsProvider {
  return {
    name: 'groq',
    maxChars: GROQ_TTS_MAX_CHARS,
    async synthesize(text, { voice, signal }) {
      try {
        const response = await client.audio.speech.create(
          { model: options.model, voice: voice ?? options.voice, input: text, response_format: 'wav' },
          { signal },
        );
        const wav = Buffer.from(await response.arrayBuffer());
        let sampleRate: number;
        try {
          sampleRate = decodeWav(wav).sampleRate;
        } catch {
          throw new VoiceError('PROVIDER_REJECTED', 'text-to-speech (Groq) returned audio that is not a WAV file', true);
        }
        return { wav, sampleRate, mimeType: 'audio/wav' };
      } catch (error) {
        throw providerError('text-to-speech (Groq)', error);
      }
    },
  };
}
