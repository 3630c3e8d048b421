// Voice pipeline benchmark: the real runTurn (STT → LangGraph agent → sentence splitter → TTS, event log) over
// fixed-latency fakes, against (a) a bare reference that sleeps the same provider times in the ideal streamed
// order with no pipeline at all, and (b) the prototype's serial order (STT, the whole answer, then all speech).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MemorySaver } from '@langchain/langgraph';
import { HumanMessage } from '@langchain/core/messages';
import { createAgentGraph } from '../src/agent/graph';
import { createLogger } from '../src/logger';
import { encodeWav } from '../src/voice/audio';
import { createEventLog } from '../src/voice/events';
import { type PipelineDeps, runTurn } from '../src/voice/pipeline';
import { createSentenceSplitter } from '../src/voice/sentences';
import { ANSWER, FakeStreamingModel, PAPER_TIMINGS, createFakeStt, createFakeTts } from './fakes';
import { type LatencyStats, summarize } from './stats';

interface TurnTiming {
  totalMs: number;
  firstAudioMs: number;
}

export interface VoiceScenario {
  turns: number;
  concurrency: number;
  pipeline: { total: LatencyStats; firstAudio: LatencyStats };
  reference: { total: LatencyStats; firstAudio: LatencyStats };
  /** p50 of the pipeline minus p50 of the reference (what the pipeline itself adds). */
  overheadP50Ms: number;
  overheadP99Ms: number;
  firstAudioOverheadP50Ms: number;
  /** Process CPU time per pipeline turn (the fakes only sleep, so this is the pipeline's own work). */
  cpuMsPerTurn: number;
}

export interface VoiceResult {
  timings: typeof PAPER_TIMINGS;
  sentences: number;
  /** The time of the rest of the answer after its first sentence: (sentences - 1) x sentenceMs. */
  restOfAnswerMs: number;
  sequential: VoiceScenario;
  concurrent: VoiceScenario;
  serial: { firstAudio: LatencyStats; total: LatencyStats };
  /** Serial first audio p50 minus streamed first audio p50 (sequential turns). */
  firstAudioAheadMs: number;
}

const timings = PAPER_TIMINGS;
const AUDIO = encodeWav({ sampleRate: 16_000, samples: new Int16Array(16_000) });

function pipelineDeps(): PipelineDeps {
  const model = new FakeStreamingModel({ timings });
  return {
    stt: createFakeStt(timings),
    tts: createFakeTts(timings),
    graph: createAgentGraph({ model, tools: [], checkpointer: new MemorySaver() }),
    log: createLogger('warn'),
    providerLabel: 'fake',
  };
}

async function pipelineTurn(deps: PipelineDeps, log: ReturnType<typeof createEventLog>): Promise<TurnTiming> {
  const sessionId = randomUUID();
  const turnId = randomUUID();
  const writer = log.openTurn('bench', sessionId, turnId);
  let firstAudio = Number.NaN;
  const t0 = performance.now();
  const timed = {
    get ended() {
      return writer.ended;
    },
    append: (body: Parameters<typeof writer.append>[0]) => {
      if (body.type === 'AudioChunkEvent' && Number.isNaN(firstAudio)) firstAudio = performance.now() - t0;
      return writer.append(body);
    },
  };
  const outcome = await runTurn(deps, {
    tenantId: 'bench',
    subject: 'bench',
    sessionId,
    turnId,
    audio: () => ({ bytes: AUDIO, format: 'WAV' }),
    signal: new AbortController().signal,
    writer: timed,
  });
  if (outcome.status !== 'COMPLETED') throw new Error(`voice turn ${outcome.status}: ${outcome.error?.message}`);
  return { totalMs: performance.now() - t0, firstAudioMs: firstAudio };
}

/** The ideal streamed order with the same fakes and no pipeline: what a zero-overhead implementation would take. */
async function referenceTurn(): Promise<TurnTiming> {
  const stt = createFakeStt(timings);
  const tts = createFakeTts(timings);
  const t0 = performance.now();
  let firstAudio = Number.NaN;
  await stt.transcribe({ bytes: AUDIO, format: 'WAV' }, {});
  let speech: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < ANSWER.length; i++) {
    await new Promise((r) => setTimeout(r, i === 0 ? timings.firstTokenMs : timings.sentenceMs));
    speech = speech
      .then(() => tts.synthesize(ANSWER[i], {}))
      .then(() => {
        if (Number.isNaN(firstAudio)) firstAudio = performance.now() - t0;
      });
  }
  await speech;
  return { totalMs: performance.now() - t0, firstAudioMs: firstAudio };
}

/** The prototype's order: transcribe, let the agent finish its whole answer, synthesise every sentence, then play. */
async function serialTurn(deps: PipelineDeps): Promise<TurnTiming> {
  const t0 = performance.now();
  const transcript = await deps.stt.transcribe({ bytes: AUDIO, format: 'WAV' }, {});
  const state = await deps.graph.invoke({ messages: [new HumanMessage(transcript)] }, { configurable: { thread_id: randomUUID() } });
  const answer = String(state.messages.at(-1)?.content ?? '');
  const splitter = createSentenceSplitter(deps.tts.maxChars);
  const sentences = [...splitter.push(answer), ...splitter.flush()];
  for (const sentence of sentences) await deps.tts.synthesize(sentence, {});
  const done = performance.now() - t0;
  return { totalMs: done, firstAudioMs: done };
}

async function scenario(turns: number, concurrency: number): Promise<VoiceScenario> {
  const deps = pipelineDeps();
  const log = createEventLog();
  const pipeline: TurnTiming[] = [];
  const reference: TurnTiming[] = [];
  let cpuMicros = 0;
  // Warm-up: module loading, LangGraph's first compile-time paths and V8's compilation of the hot code are not per-turn
  // costs of a server that has answered before. One turn left most of it cold (the first timed turns cost 3-5x the CPU
  // of later ones), so 50 turns run at once (about one turn's time), then one more on its own.
  await Promise.all(Array.from({ length: 50 }, () => pipelineTurn(deps, log)));
  await pipelineTurn(deps, log);
  for (let done = 0; done < turns; done += concurrency) {
    const n = Math.min(concurrency, turns - done);
    // Alternate so machine noise hits both alike.
    const cpu0 = process.cpuUsage();
    pipeline.push(...(await Promise.all(Array.from({ length: n }, () => pipelineTurn(deps, log)))));
    const cpu = process.cpuUsage(cpu0);
    cpuMicros += cpu.user + cpu.system;
    reference.push(...(await Promise.all(Array.from({ length: n }, () => referenceTurn()))));
  }
  log.close();
  const p = { total: summarize(pipeline.map((t) => t.totalMs)), firstAudio: summarize(pipeline.map((t) => t.firstAudioMs)) };
  const r = { total: summarize(reference.map((t) => t.totalMs)), firstAudio: summarize(reference.map((t) => t.firstAudioMs)) };
  return {
    turns,
    concurrency,
    pipeline: p,
    reference: r,
    overheadP50Ms: p.total.p50 - r.total.p50,
    overheadP99Ms: p.total.p99 - r.total.p99,
    firstAudioOverheadP50Ms: p.firstAudio.p50 - r.firstAudio.p50,
    cpuMsPerTurn: cpuMicros / 1000 / turns,
  };
}

export async function runVoiceBench(options: { quick: boolean; log: (line: string) => void }): Promise<VoiceResult> {
  const sequential = await scenario(options.quick ? 5 : 30, 1);
  options.log(`voice: sequential overhead p50 ${sequential.overheadP50Ms.toFixed(2)} ms`);
  const concurrent = await scenario(options.quick ? 100 : 300, 100);
  options.log(`voice: 100 concurrent overhead p50 ${concurrent.overheadP50Ms.toFixed(2)} ms`);
  const deps = pipelineDeps();
  const serial: TurnTiming[] = [];
  for (let i = 0; i < (options.quick ? 3 : 10); i++) serial.push(await serialTurn(deps));
  const serialStats = { firstAudio: summarize(serial.map((t) => t.firstAudioMs)), total: summarize(serial.map((t) => t.totalMs)) };
  return {
    timings,
    sentences: ANSWER.length,
    restOfAnswerMs: (ANSWER.length - 1) * timings.sentenceMs,
    sequential,
    concurrent,
    serial: serialStats,
    firstAudioAheadMs: serialStats.firstAudio.p50 - sequential.pipeline.firstAudio.p50,
  };
}
