// Offline speech-to-text with pocketsphinx (Debian pocketsphinx + pocketsphinx-en-us) constrained by a JSGF grammar of
// the domain's questions: free dictation mis-hears badly, a grammar of what people ask here transcribes reliably.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav, encodeWav, padSilence, resample } from '../../audio';
import { VoiceError } from '../../errors';
import type { SttProvider } from '../types';
import { findProgram, runProgram } from './exec';

export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface LocalSttOptions {
  /** The JSGF grammar to recognise with (the domain's phrases for this tenant), given which words the dictionary knows. */
  grammar: (knownWord: (word: string) => boolean, tenantId?: string) => Promise<string> | string;
  program?: string | null;
  modelDir?: string;
}

export interface LocalStt extends SttProvider {
  /** Why audio cannot be transcribed here, or null when it can. */
  unavailableReason: string | null;
}

export function createLocalStt(options: LocalSttOptions): LocalStt {
  const program = options.program === undefined ? findProgram('pocketsphinx_continuous') : options.program;
  const modelDir = options.modelDir ?? POCKETSPHINX_MODEL_DIR;
  const hmm = join(modelDir, 'en-us');
  const dict = join(modelDir, 'cmudict-en-us.dict');
  const unavailableReason = !program
    ? 'offline speech-to-text needs pocketsphinx: install the Debian packages pocketsphinx and pocketsphinx-en-us (bash .ci/voice-deps.sh), or set GROQ_API_KEY to use Groq; text turns work without it'
    : !existsSync(hmm) || !existsSync(dict)
      ? `offline speech-to-text needs the pocketsphinx US English model in ${modelDir}: install the Debian package pocketsphinx-en-us, or set GROQ_API_KEY`
      : null;

  // The dictionary's words, read once on first use (3 MB), so the grammar only uses words it can recognise.
  let words: Promise<Set<string>> | null = null;
  const dictionaryWords = () =>
    (words ??= readFile(dict, 'utf8').then((text) => new Set(text.split('\n').map((line) => line.split(' ')[0]).filter((w) => w && !w.includes('(')))));

  return {
    name: 'pocketsphinx',
    unavailableReason,
    async transcribe(audio, { signal, tenantId }) {
      if (unavailableReason || !program) throw new VoiceError('STT_UNAVAILABLE', unavailableReason ?? 'no speech-to-text', false);
      if (audio.format !== 'WAV') {
        throw new VoiceError('BAD_AUDIO', `offline speech-to-text reads WAV only, not ${audio.format}; send audioFormat: WAV or set GROQ_API_KEY to use Groq`, false);
      }
      // pocketsphinx's acoustic model is 16 kHz; a little silence around the speech lets its endpointing settle.
      const pcm = padSilence(resample(decodeWav(audio.bytes), 16000), 0.5);
      const dir = await mkdtemp(join(tmpdir(), 'udc-stt-'));
      try {
        const wavPath = join(dir, 'in.wav');
        const grammarPath = join(dir, 'domain.jsgf');
        await writeFile(wavPath, encodeWav(pcm));
        const known = await dictionaryWords();
        await writeFile(grammarPath, await options.grammar((w) => known.has(w), tenantId));
        const result = await runProgram(
          program,
          ['-infile', wavPath, '-jsgf', grammarPath, '-hmm', hmm, '-dict', dict, '-samprate', '16000', '-logfn', '/dev/null'],
          { signal },
        );
        if (result.code !== 0) {
          throw new VoiceError('INTERNAL', `offline speech-to-text (pocketsphinx) failed with exit ${result.code}`, true);
        }
        // One line per utterance it segmented; join them.
        return result.stdout.toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
