// Speech-to-text through Groq's Whisper endpoint (groq-sdk): multipart upload of the audio, plain transcript back.
import type Groq from 'groq-sdk';
import { toFile } from 'groq-sdk';
import { type AudioFormat, audioMimeTypes } from '../../audio';
import { VoiceError, providerError } from '../../errors';
import type { SttProvider } from '../types';

const extensions: Record<AudioFormat, string> = { WAV: 'wav', WEBM: 'webm', OGG: 'ogg', MP3: 'mp3', FLAC: 'flac' };

export function createGroqStt(client: Groq, options: { model: string; language?: string }): SttProvider {
  return {
    name: 'groq',
    async transcribe(audio, { signal }) {
      try {
        const file = await toFile(audio.bytes, `speech.${extensions[audio.format]}`, { type: audioMimeTypes[audio.format] });
        const result = await client.audio.transcriptions.create(
          { file, model: options.model, language: options.language ?? 'en', response_format: 'json' },
          { signal },
        );
        return (result.text ?? '').trim();
      } catch (error) {
        const status = (error as { status?: number }).status;
        // Whisper answers 400 for audio it cannot decode: that is the client's audio, not our provider.
        if (status === 400) {
          throw new VoiceError('BAD_AUDIO', `speech-to-text could not read the audio: ${(error as Error).message.slice(0, 200)}`, false);
        }
        throw providerError('speech-to-text (Groq)', error);
      }
    },
  };
}
