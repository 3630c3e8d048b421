// Fixed-latency fake providers for the voice benchmarks: STT 300 ms; LLM first sentence after 200 ms, then one
// sentence every 150 ms; TTS 150 ms per sentence. Real timers, so the pipeline's own overhead is what remains.
import { setTimeout as sleep } from 'node:timers/promises';
import { BaseChatModel, type BaseChatModelParams } from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import { encodeWav } from '../src/voice/audio';
import type { SttProvider, TtsProvider } from '../src/voice/providers/types';

export interface FakeTimings {
  sttMs: number;
  firstTokenMs: number;
  sentenceMs: number;
  ttsMs: number;
}

export const PAPER_TIMINGS: FakeTimings = { sttMs: 300, firstTokenMs: 200, sentenceMs: 150, ttsMs: 150 };

/** The answer the fake model gives: four short sentences. */
export const ANSWER = [
  'I found 25 open support tickets.',
  'Ten of them are high priority.',
  'The oldest one is from last Tuesday.',
  'Would you like me to read the high priority ones?',
];

export function createFakeStt(t: FakeTimings): SttProvider {
  return {
    name: 'fake-stt',
    async transcribe(_audio, { signal }) {
      await sleep(t.sttMs, undefined, { signal });
      return 'How many open tickets do we have?';
    },
  };
}

/** 50 ms of silence at 16 kHz: a real, small WAV, so no time goes into moving big buffers. */
const SILENCE = encodeWav({ sampleRate: 16_000, samples: new Int16Array(800) });

export function createFakeTts(t: FakeTimings): TtsProvider {
  return {
    name: 'fake-tts',
    maxChars: 200,
    async synthesize(_text, { signal }) {
      await sleep(t.ttsMs, undefined, { signal });
      return { wav: SILENCE, sampleRate: 16_000, mimeType: 'audio/wav' };
    },
  };
}

interface FakeModelFields extends BaseChatModelParams {
  timings: FakeTimings;
  sentences?: string[];
}

/** Streams the answer sentence by sentence on the fake schedule; never calls tools. */
export class FakeStreamingModel extends BaseChatModel {
  private readonly fields: FakeModelFields;

  constructor(fields: FakeModelFields) {
    super(fields);
    this.fields = fields;
  }

  _llmType(): string {
    return 'fake-streaming';
  }

  override bindTools(): FakeStreamingModel {
    return this;
  }

  private get sentences() {
    return this.fields.sentences ?? ANSWER;
  }

  /** Non-streamed: the whole answer once its last sentence would have been generated (the serial prototype's way). */
  async _generate(_messages: BaseMessage[], options: this['ParsedCallOptions']): Promise<ChatResult> {
    const { firstTokenMs, sentenceMs } = this.fields.timings;
    await sleep(firstTokenMs + sentenceMs * (this.sentences.length - 1), undefined, { signal: options.signal });
    const text = this.sentences.join(' ');
    return { generations: [{ text, message: new AIMessage(text) }] };
  }

  override async *_streamResponseChunks(
    _messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const { firstTokenMs, sentenceMs } = this.fields.timings;
    for (const [i, sentence] of this.sentences.entries()) {
      await sleep(i === 0 ? firstTokenMs : sentenceMs, undefined, { signal: options.signal });
      const text = i < this.sentences.length - 1 ? `${sentence} ` : sentence;
      const chunk = new ChatGenerationChunk({ text, message: new AIMessageChunk({ content: text }) });
      yield chunk;
      await runManager?.handleLLMNewToken(text, undefined, undefined, undefined, undefined, { chunk });
    }
  }
}
