// Offline speech-to-text with pocketsphinx (Debian pocketsphinx + pocketsphinx-en-us) constrained by a JSGF grammar of
// the domain's questions: free dictation mis-hears badly, a grammar of what people ask here transcribes reliably. A
// grammar also turns any other speech into one of its phrases, so every hypothesis is checked against a free phone
// loop (pocketsphinx.ts) and one the recogniser is not sure of is NOT_UNDERSTOOD ("Sorry, I didn't catch that").
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AudioInput, type Pcm, decodeWav, encodeWav, padSilence, resample } from '../../audio';
import { VoiceError } from '../../errors';
import type { SttProvider } from '../types';
import { findProgram, runProgram } from './exec';
import { PHONE_LOOP_DICTIONARY, PHONE_LOOP_GRAMMAR, grammarDictionary, grammarWords, parseBacktraces, scoreHypothesis } from './pocketsphinx';

export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/**
 * The lowest confidence (pocketsphinx.ts scoreHypothesis) a hypothesis may have to be taken as heard. Chosen from
 * espeak-ng recordings of in-grammar and other questions (docs/voice.md, "How sure the offline recogniser is").
 */
export const MIN_CONFIDENCE = -10;

/** The largest share of the speech a hypothesis may leave unexplained (pocketsphinx.ts Score.unexplained). */
export const MAX_UNEXPLAINED = 0.2;

/** Less speech than this (in 10 ms frames) with no phrase heard is silence or a click: BAD_AUDIO, not NOT_UNDERSTOOD. */
const MIN_SPEECH_FRAMES = 25;

export const NOT_UNDERSTOOD_MESSAGE =
  "Sorry, I didn't catch that. Please say it again: the offline recogniser understands questions about support tickets, customers and metrics, such as \"How many open tickets do we have?\"";

export interface LocalSttOptions {
  /** The JSGF grammar to recognise with (the domain's phrases for this tenant), given which words the dictionary knows. */
  grammar: (knownWord: (word: string) => boolean, tenantId?: string) => Promise<string> | string;
  program?: string | null;
  modelDir?: string;
  /** Hypotheses below this confidence are NOT_UNDERSTOOD (default MIN_CONFIDENCE). */
  minConfidence?: number;
}

/** What the recogniser heard and how sure it is, before deciding (tests, diagnostics). */
export interface Recognition {
  /** The grammar's hypothesis, '' when no phrase of the grammar fits at all. */
  text: string;
  /** See pocketsphinx.ts Score.confidence; null when nothing was heard. */
  confidence: number | null;
  /** 10 ms frames of speech (phones, not silence) in the audio. */
  speechFrames: number;
  /** The share of the speech the hypothesis explains as silence or noise. */
  unexplained: number;
}

export interface LocalStt extends SttProvider {
  /** Why audio cannot be transcribed here, or null when it can. */
  unavailableReason: string | null;
  /** Runs the grammar and the phone loop and scores the hypothesis, without deciding whether it was understood. */
  recognise(audio: AudioInput, options: { signal?: AbortSignal; tenantId?: string }): Promise<Recognition>;
}

/**
 * Adds a fixed, very quiet dither (about -60 dBFS, the same every time) to the samples. Synthetic speech and the
 * padding below have stretches of exact digital zero, which no microphone records: the recogniser's front end (log
 * energies, noise estimate) handles them badly and then mis-hears words next to them. Measured on 37 in-grammar
 * questions in espeak-ng's default and en-us voices (74 recordings, noise removal off): 55 heard right without it, 62
 * with it.
 */
function dither(pcm: Pcm, amplitude = 32): Pcm {
  let state = 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const samples = new Int16Array(pcm.samples.length);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.max(-32768, Math.min(32767, Math.round(pcm.samples[i] + (next() + next() - 1) * amplitude)));
  }
  return { sampleRate: pcm.sampleRate, samples };
}

export function createLocalStt(options: LocalSttOptions): LocalStt {
  const program = options.program === undefined ? findProgram('pocketsphinx_continuous') : options.program;
  const modelDir = options.modelDir ?? POCKETSPHINX_MODEL_DIR;
  const minConfidence = options.minConfidence ?? MIN_CONFIDENCE;
  const hmm = join(modelDir, 'en-us');
  const dict = join(modelDir, 'cmudict-en-us.dict');
  const unavailableReason = !program
    ? 'offline speech-to-text needs pocketsphinx: install the Debian packages pocketsphinx and pocketsphinx-en-us (bash .ci/voice-deps.sh), or set GROQ_API_KEY to use Groq; text turns work without it'
    : !existsSync(hmm) || !existsSync(dict)
      ? `offline speech-to-text needs the pocketsphinx US English model in ${modelDir}: install the Debian package pocketsphinx-en-us, or set GROQ_API_KEY`
      : null;

  // The dictionary's pronunciations, read once on first use (3 MB), so the grammar only uses words it can recognise
  // and each run gets a small dictionary of just the grammar's words.
  let pronunciations: Promise<Map<string, string[]>> | null = null;
  const loadPronunciations = () =>
    (pronunciations ??= readFile(dict, 'utf8').then((text) => {
      const map = new Map<string, string[]>();
      for (const line of text.split('\n')) {
        const space = line.indexOf(' ');
        if (space <= 0) continue;
        const word = line.slice(0, space).replace(/\(\d+\)$/, '');
        const phones = line.slice(space + 1).replace(/#.*$/, '').trim();
        if (!phones) continue;
        const list = map.get(word);
        if (list) list.push(phones);
        else map.set(word, [phones]);
      }
      return map;
    }));

  async function recognise(audio: AudioInput, { signal, tenantId }: { signal?: AbortSignal; tenantId?: string }): Promise<Recognition> {
    if (unavailableReason || !program) throw new VoiceError('STT_UNAVAILABLE', unavailableReason ?? 'no speech-to-text', false);
    if (audio.format !== 'WAV') {
      throw new VoiceError('BAD_AUDIO', `offline speech-to-text reads WAV only, not ${audio.format}; send audioFormat: WAV or set GROQ_API_KEY to use Groq`, false);
    }
    // pocketsphinx's acoustic model is 16 kHz; a little silence around the speech lets its endpointing settle.
    const pcm = dither(padSilence(resample(decodeWav(audio.bytes), 16000), 0.5));
    const dir = await mkdtemp(join(tmpdir(), 'udc-stt-'));
    try {
      const prons = await loadPronunciations();
      const grammar = await options.grammar((w) => prons.has(w), tenantId);
      const files = {
        wav: join(dir, 'in.wav'),
        grammar: join(dir, 'domain.jsgf'),
        dict: join(dir, 'domain.dict'),
        loop: join(dir, 'loop.jsgf'),
        loopDict: join(dir, 'loop.dict'),
      };
      await Promise.all([
        writeFile(files.wav, encodeWav(pcm)),
        writeFile(files.grammar, grammar),
        writeFile(files.dict, grammarDictionary(grammarWords(grammar), (w) => prons.get(w))),
        writeFile(files.loop, PHONE_LOOP_GRAMMAR),
        writeFile(files.loopDict, PHONE_LOOP_DICTIONARY),
      ]);
      // Noise removal off: on the same 74 recordings it cost 4 (no dither) to 5 (dither) questions heard right. A wider
      // word-exit beam than the default 7e-29: otherwise a phrase that ends before an optional part ("give me a summary
      // of revenue" [over the last week]) can lose its last word to pruning and end in no phrase at all; on 198
      // recordings of in-grammar questions it made 4 more heard right (179), for about 30% more time.
      const common = ['-infile', files.wav, '-hmm', hmm, '-samprate', '16000', '-remove_noise', 'no', '-wbeam', '1e-60', '-backtrace', 'yes'];
      const [heard, loop] = await Promise.all([
        runProgram(program, [...common, '-jsgf', files.grammar, '-dict', files.dict], { signal }),
        runProgram(program, [...common, '-jsgf', files.loop, '-dict', files.loopDict], { signal }),
      ]);
      for (const result of [heard, loop]) {
        if (result.code !== 0) {
          const reason = result.stderr.split('\n').filter((l) => l.startsWith('ERROR')).slice(-1)[0] ?? `exit ${result.code}`;
          throw new VoiceError('INTERNAL', `offline speech-to-text (pocketsphinx) failed: ${reason.slice(0, 200)}`, true);
        }
      }
      // One line per utterance it segmented; join them.
      const text = heard.stdout.toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
      const score = scoreHypothesis(parseBacktraces(heard.stderr), parseBacktraces(loop.stderr));
      return { text, confidence: text ? score.confidence : null, speechFrames: score.speechFrames, unexplained: score.unexplained };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    name: 'pocketsphinx',
    unavailableReason,
    recognise,
    async transcribe(audio, options) {
      const { text, confidence, speechFrames, unexplained } = await recognise(audio, options);
      if (!text && speechFrames < MIN_SPEECH_FRAMES) return ''; // no speech at all: the pipeline's BAD_AUDIO
      if (!text || confidence === null || confidence < minConfidence || unexplained > MAX_UNEXPLAINED) {
        throw new VoiceError('NOT_UNDERSTOOD', NOT_UNDERSTOOD_MESSAGE, true);
      }
      return text;
    },
  };
}
