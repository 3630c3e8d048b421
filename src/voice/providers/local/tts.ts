// Offline text-to-speech with the espeak-ng program (Debian package espeak-ng): text on stdin, WAV on stdout.
import { decodeWav, encodeWav } from '../../audio';
import { VoiceError } from '../../errors';
import type { TtsProvider } from '../types';
import { findProgram, runProgram } from './exec';

export interface LocalTtsOptions {
  /** espeak-ng voice, e.g. "en-us". */
  voice?: string;
  /** Words per minute. */
  speed?: number;
  program?: string | null;
}

export function createLocalTts(options: LocalTtsOptions = {}): TtsProvider & { available: boolean } {
  const program = options.program === undefined ? findProgram('espeak-ng') : options.program;
  return {
    name: 'espeak-ng',
    // espeak-ng has no input limit; short chunks keep the first audio early and match the Groq path.
    maxChars: 200,
    available: program !== null,
    async synthesize(text, { voice, signal }) {
      if (!program) return null;
      // Client voices are Groq names (troy, diana…); espeak-ng only takes its own voice names, so keep ours unless it looks like one.
      const espeakVoice = voice && /^[a-z]{2,3}(-[a-z0-9]+)*$/i.test(voice) && voice.length <= 8 ? voice : options.voice ?? 'en-us';
      const result = await runProgram(program, ['-v', espeakVoice, '-s', String(options.speed ?? 165), '--stdout'], { input: text, signal });
      if (result.code !== 0 || result.stdout.length < 44) {
        throw new VoiceError('INTERNAL', `text-to-speech (espeak-ng) failed: ${result.stderr.trim().slice(0, 200) || `exit ${result.code}`}`, true);
      }
      // Its --stdout header carries placeholder sizes: decode tolerantly and re-encode a correct file.
      const pcm = decodeWav(result.stdout);
      return { wav: encodeWav(pcm), sampleRate: pcm.sampleRate, mimeType: 'audio/wav' };
    },
  };
}
