// One voice turn, streamed: speech-to-text → agent (LangGraph) → sentence splitter → text-to-speech per sentence.
// The agent keeps generating while earlier sentences are being spoken; every step appends to the turn's event log.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AGENT_EVENTS_KEY, type AgentEvent, type AgentGraph, PENDING_QUESTION_KEY, type PendingQuestion, rememberQuestion } from '../agent/graph';
import type { Logger } from '../logger';
import { type AudioInput, checkAudio } from './audio';
import { VoiceError, providerError } from './errors';
import type { TurnTimings, TurnWriter } from './events';
import type { SttProvider, TtsProvider } from './providers/types';
import { createSentenceSplitter, speakable } from './sentences';

export interface PipelineDeps {
  stt: SttProvider;
  tts: TtsProvider;
  graph: AgentGraph;
  log: Logger;
  /** Names used in error messages: "Groq" or "local". */
  providerLabel: string;
}

export interface TurnRequest {
  tenantId: string;
  /** The session's owner within the tenant (the token's sub). */
  subject: string;
  sessionId: string;
  turnId: string;
  text?: string | null;
  /** Raw audio, or a thunk that decodes it (base64 decoding errors are BAD_AUDIO of this turn, not of the request). */
  audio?: (() => AudioInput) | null;
  voice?: string | null;
  signal: AbortSignal;
  writer: TurnWriter;
  /** Resolves when the session's previous turn has settled (its memory writes are done). */
  after?: Promise<unknown>;
  /**
   * Runs just before the turn's last event (TurnCompleted or TurnFailed) is appended, e.g. to store the outcome:
   * a client that sees the end and then asks for the session must find it stored.
   */
  beforeEnd?: (outcome: TurnOutcome) => Promise<void>;
}

export interface TurnOutcome {
  status: 'COMPLETED' | 'FAILED' | 'INTERRUPTED';
  transcript: string | null;
  responseText: string | null;
  timings: TurnTimings | null;
  error: VoiceError | null;
}

/** A tiny async queue: the agent pushes sentences, the speaker pulls them in order. */
function createQueue<T>() {
  const items: T[] = [];
  let closed = false;
  let wake: (() => void) | null = null;
  return {
    push(item: T) {
      items.push(item);
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    async next(): Promise<T | null> {
      for (;;) {
        if (items.length) return items.shift() as T;
        if (closed) return null;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    },
  };
}

export async function runTurn(deps: PipelineDeps, request: TurnRequest): Promise<TurnOutcome> {
  const { writer } = request;
  const t0 = performance.now();
  const elapsed = () => Math.round(performance.now() - t0);
  // Internal abort: a failing stage stops the others; the caller's signal (barge-in, shutdown) stops everything.
  const controller = new AbortController();
  const onAbort = () => controller.abort(request.signal.reason);
  request.signal.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;

  let transcript: string | null = null;
  const sentences: string[] = [];
  let sttMs: number | null = null;
  let agentMs: number | null = null;
  let firstAudioMs: number | null = null;
  let stage = 'speech-to-text';
  const queue = createQueue<string>();
  // The agent's memory is the session's: per tenant and subject, like the session itself.
  const threadId = JSON.stringify([request.tenantId, request.subject, request.sessionId]);
  let agentStarted = false;

  try {
    // 1. Speech-to-text (or the typed text), beside the agent (step 3): the agent loads the conversation and prepares its
    // first step while speech is being transcribed, and waits only for the question itself.
    let tAgent = 0;
    const heard = (async (): Promise<string> => {
      let text: string;
      if (request.text != null) {
        text = request.text.trim();
      } else if (request.audio) {
        const audio = request.audio();
        checkAudio(audio);
        const t = performance.now();
        text = await deps.stt.transcribe(audio, { signal, tenantId: request.tenantId }).catch((e: unknown) => {
          throw providerError(`speech-to-text (${deps.stt.name})`, e);
        });
        sttMs = Math.round(performance.now() - t);
        if (!text) throw new VoiceError('BAD_AUDIO', 'no speech was recognised in the audio; speak closer to the microphone or send a longer recording', false);
      } else {
        throw new VoiceError('INTERNAL', 'a turn needs text or audio', false);
      }
      signal.throwIfAborted();
      transcript = text;
      writer.append({ type: 'TranscriptEvent', text });
      stage = `language model (${deps.providerLabel})`;
      tAgent = performance.now();
      return text;
    })();
    // A failed transcription is the turn's error: it stops the agent that waits for the question.
    const question = heard.catch((e: unknown) => {
      controller.abort(e);
      throw e;
    });
    question.catch(() => {}); // the agent awaits it; this only keeps a failure before the agent starts from being unhandled

    // 2. The speaker: synthesises sentences in order while the agent keeps producing them.
    const speaker = (async () => {
      let index = 0;
      for (;;) {
        const text = await queue.next();
        if (text === null) return;
        signal.throwIfAborted();
        const speech = await deps.tts.synthesize(text, { voice: request.voice, signal }).catch((e: unknown) => {
          throw providerError(`text-to-speech (${deps.tts.name})`, e);
        });
        signal.throwIfAborted();
        if (!speech) continue; // this provider cannot speak here; the text events still carry the answer
        if (firstAudioMs === null) firstAudioMs = elapsed();
        writer.append({
          type: 'AudioChunkEvent',
          index: index++,
          mimeType: speech.mimeType,
          sampleRate: speech.sampleRate,
          data: speech.wav.toString('base64'),
          text,
        });
      }
    })();
    // If the speaker fails, stop the agent at once rather than after it finishes.
    const speakerDone = speaker.catch((e: unknown) => {
      controller.abort(e);
      throw e;
    });
    speakerDone.catch(() => {}); // awaited below; this only keeps an early agent failure from leaving it unhandled

    // 3. The agent, streamed (its events come to onEvent as they happen): text goes through the sentence splitter; tool
    // calls and results become events.
    // The session's previous (interrupted) turn writes its last memory checkpoint first; bounded, so a stuck provider
    // call in the old turn cannot hold the new one.
    if (request.after) await Promise.race([request.after.catch(() => {}), sleep(5000, undefined, { ref: false })]);
    signal.throwIfAborted();
    const splitter = createSentenceSplitter(deps.tts.maxChars);
    const say = (parts: string[]) => {
      for (const part of parts) {
        const sentence = speakable(part);
        if (!sentence) continue;
        sentences.push(sentence);
        writer.append({ type: 'ResponseTextEvent', text: sentence });
        queue.push(sentence);
      }
    };
    try {
      const onEvent = (event: AgentEvent) => {
        if (signal.aborted) return; // the turn is over: nothing more of it reaches the log or the speaker
        if (event.type === 'text') say(splitter.push(event.text));
        else if (event.type === 'message-end') say(splitter.flush());
        else if (event.type === 'tool-call') writer.append({ type: 'ToolCallEvent', tool: event.tool, arguments: event.arguments });
        else if (event.type === 'tool-result') writer.append({ type: 'ToolResultEvent', tool: event.tool, summary: event.summary });
      };
      agentStarted = true;
      await deps.graph.invoke(
        { messages: [] },
        {
          configurable: {
            thread_id: threadId,
            tenantId: request.tenantId,
            [PENDING_QUESTION_KEY]: { id: request.turnId, text: question } satisfies PendingQuestion,
            [AGENT_EVENTS_KEY]: onEvent,
          },
          // One checkpoint when the run ends (completed, failed or interrupted), not one per step.
          durability: 'exit',
          signal,
        },
      );
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw providerError(stage, error);
    }
    say(splitter.flush());
    agentMs = Math.round(performance.now() - tAgent);
    queue.close();

    stage = `text-to-speech (${deps.tts.name})`;
    await speakerDone;
    signal.throwIfAborted();

    const responseText = sentences.join(' ');
    const timings: TurnTimings = { sttMs, agentMs, firstAudioMs, totalMs: elapsed() };
    const outcome: TurnOutcome = { status: 'COMPLETED', transcript, responseText, timings, error: null };
    await request.beforeEnd?.(outcome);
    writer.append({ type: 'TurnCompletedEvent', responseText, timings });
    return outcome;
  } catch (caught) {
    const reason = request.signal.aborted ? request.signal.reason : caught;
    // The run has settled (it is awaited above); a question it heard but did not store stays in the conversation.
    if (agentStarted && transcript !== null) {
      await rememberQuestion(deps.graph, threadId, { id: request.turnId, text: transcript }).catch((e: unknown) =>
        deps.log.error('voice turn: could not keep the question in the conversation', { turnId: request.turnId, error: String(e) }),
      );
    }
    if (request.signal.aborted) {
      // Interrupted from outside: the service has already ended the turn's log (TurnFailed INTERRUPTED).
      const error = reason instanceof VoiceError ? reason : new VoiceError('INTERRUPTED', 'the turn was interrupted', true);
      return { status: 'INTERRUPTED', transcript, responseText: sentences.join(' ') || null, timings: null, error };
    }
    const error = reason instanceof VoiceError ? reason : providerError(stage, reason);
    if (error.code === 'INTERNAL') deps.log.error('voice turn failed', { turnId: request.turnId, stage, error: String((reason as Error)?.stack ?? reason) });
    const outcome: TurnOutcome = { status: 'FAILED', transcript, responseText: sentences.join(' ') || null, timings: null, error };
    await request.beforeEnd?.(outcome);
    writer.append({ type: 'TurnFailedEvent', code: error.code, message: error.message, retryable: error.retryable });
    return outcome;
  } finally {
    request.signal.removeEventListener('abort', onAbort);
    queue.close();
    if (!controller.signal.aborted) controller.abort(new Error('turn finished'));
  }
}
