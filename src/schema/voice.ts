// Voice over GraphQL: Mutation.voiceTurn starts a turn, Subscription.voiceEvents streams its ordered event log,
// Query.voiceSession reads a session's stored turns. Every argument is validated with a message a client can act on.
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { type GraphQLContext, SHARED_EVENT_RESULTS } from './context';

import { AUDIO_FORMATS, MAX_AUDIO_BYTES, base64DecodedLength, formatBytes } from '../voice/audio';
import type { VoiceErrorCode } from '../voice/errors';
import type { VoiceEvent as VoiceEventShape } from '../voice/events';
import type { SessionOwner, TurnRecord, TurnStatus, VoiceService } from '../voice/service';
import { TurnLimitUnavailableError, TurnLimitedError } from '../voice/turn-limits';
import { builder } from './builder';
import { noNulCharacter } from './validation';

// This file owns the Mutation and Subscription roots (no other type file defines operations on them yet).
builder.mutationType({});
builder.subscriptionType({});

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TURN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sessionIdRule = 'must be 1 to 64 letters, digits, "-" or "_" (or leave it out to start a new session)';

/** A turn refused by the turn limits, as the client sees it: a code, the reason and when to retry. */
function limitRefusal(error: unknown): never {
  if (error instanceof TurnLimitedError) {
    throw new GraphQLError(error.message, {
      extensions: { code: 'RATE_LIMITED', reason: error.reason, retryAfterMs: error.retryAfterMs, retryAfterSeconds: Math.ceil(error.retryAfterMs / 1000) },
    });
  }
  if (error instanceof TurnLimitUnavailableError) {
    throw new GraphQLError('Voice turns are unavailable for a moment (their limits cannot be checked); retry shortly.', {
      extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterMs: 1000, retryAfterSeconds: 1 },
    });
  }
  throw error;
}

/** The caller's sessions: their tenant's, and their own within it. */
const ownerOf = (ctx: GraphQLContext): SessionOwner => ({ tenantId: ctx.identity.tenantId, subject: ctx.identity.subject });

function voiceOf(ctx: GraphQLContext): VoiceService {
  if (!ctx.voice) {
    throw new GraphQLError('Voice is not enabled on this server', { extensions: { code: 'VOICE_DISABLED' } });
  }
  return ctx.voice;
}

export const AudioFormatEnum = builder.enumType('AudioFormat', {
  description: 'Container of an uploaded recording. The offline (local) provider reads WAV only.',
  values: Object.fromEntries(AUDIO_FORMATS.map((f) => [f, { value: f }])) as Record<(typeof AUDIO_FORMATS)[number], { value: (typeof AUDIO_FORMATS)[number] }>,
});

export const VoiceTurnStatusEnum = builder.enumType('VoiceTurnStatus', {
  values: {
    RUNNING: { value: 'RUNNING', description: 'Started; events are being produced.' },
    COMPLETED: { value: 'COMPLETED', description: 'Ended with TurnCompletedEvent.' },
    FAILED: { value: 'FAILED', description: 'Ended with TurnFailedEvent (see errorCode).' },
    INTERRUPTED: { value: 'INTERRUPTED', description: 'Ended before its answer: by a newer turn on the same session (barge-in), by cancelVoiceTurn (errorCode CANCELLED) or by shutdown.' },
  } as const,
});

export const VoiceInputKindEnum = builder.enumType('VoiceInputKind', {
  values: { TEXT: { value: 'TEXT' }, AUDIO: { value: 'AUDIO' } } as const,
});

export const VoiceErrorCodeEnum = builder.enumType('VoiceErrorCode', {
  description: 'Why a turn ended without an answer.',
  values: {
    BAD_AUDIO: { value: 'BAD_AUDIO', description: 'Not base64, empty, not the declared format, undecodable, or no speech recognised.' },
    NOT_UNDERSTOOD: { value: 'NOT_UNDERSTOOD', description: 'Speech was heard, but the recogniser is not sure what was asked ("Sorry, I didn’t catch that"); say it again.' },
    STT_UNAVAILABLE: { value: 'STT_UNAVAILABLE', description: 'Audio sent to a server without speech-to-text (the message says what to install).' },
    RATE_LIMITED: { value: 'RATE_LIMITED', description: 'The provider kept answering 429 after the retries.' },
    PROVIDER_TIMEOUT: { value: 'PROVIDER_TIMEOUT', description: 'The provider did not answer within GROQ_TIMEOUT_MS.' },
    PROVIDER_UNAVAILABLE: { value: 'PROVIDER_UNAVAILABLE', description: 'The provider failed (5xx or network) after the retries.' },
    PROVIDER_AUTH: { value: 'PROVIDER_AUTH', description: 'The provider rejected the API key.' },
    PROVIDER_REJECTED: { value: 'PROVIDER_REJECTED', description: 'The provider rejected the request (4xx).' },
    INTERRUPTED: { value: 'INTERRUPTED', description: 'A newer turn on the same session started (barge-in), or the server is shutting down.' },
    CANCELLED: { value: 'CANCELLED', description: 'Cancelled with Mutation.cancelVoiceTurn.' },
    INTERNAL: { value: 'INTERNAL', description: 'A server-side failure; it has been logged.' },
  } as const,
});

const VoiceTurnInput = builder.inputType('VoiceTurnInput', {
  description: 'One spoken or typed question. Give exactly one of text or audio.',
  fields: (t) => ({
    sessionId: t.id({
      description: 'Continue this session (its conversation memory); leave out to start a new one.',
      validate: { schema: z.string().regex(SESSION_ID, sessionIdRule) },
    }),
    text: t.string({
      description: 'The question as text (skips speech-to-text).',
      // A NUL character cannot be stored in PostgreSQL text: the turn's outcome was lost and it stayed RUNNING.
      validate: {
        schema: z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters').regex(noNulCharacter[0], noNulCharacter[1].message),
      },
    }),
    audio: t.string({
      description: 'The recording, base64-encoded; at most 25 MB once decoded.',
      validate: {
        schema: z
          .string()
          .min(1, 'must not be empty; send a base64-encoded recording')
          .refine((b64) => base64DecodedLength(b64) <= MAX_AUDIO_BYTES, {
            message: 'is larger than the 25 MB limit once decoded; send a shorter recording or a compressed format (MP3, OGG, WEBM, FLAC)',
          }),
      },
    }),
    audioFormat: t.field({ type: AudioFormatEnum, description: 'Container of audio; WAV when left out.' }),
    voice: t.string({
      description: 'Text-to-speech voice (Groq Orpheus: autumn, diana, hannah, austin, daniel, troy; local: an espeak-ng voice such as en-us).',
      validate: { schema: z.string().regex(/^[A-Za-z0-9_.+-]{1,40}$/, 'must be a voice name such as troy or en-us') },
    }),
  }),
  validate: [
    (input) => (input.text != null) !== (input.audio != null),
    { message: 'give exactly one of text or audio' },
  ],
});

export const VoiceTurnRef = builder.objectRef<TurnRecord>('VoiceTurn').implement({
  description: 'One question and its answer within a voice session.',
  fields: (t) => ({
    id: t.exposeID('id'),
    sessionId: t.exposeID('sessionId'),
    status: t.field({ type: VoiceTurnStatusEnum, resolve: (turn) => turn.status }),
    inputKind: t.field({ type: VoiceInputKindEnum, resolve: (turn) => turn.inputKind }),
    transcript: t.exposeString('transcript', { nullable: true, description: 'What was heard (or typed); null until known.' }),
    responseText: t.exposeString('responseText', { nullable: true }),
    errorCode: t.field({ type: VoiceErrorCodeEnum, nullable: true, resolve: (turn) => turn.errorCode as VoiceErrorCode | null }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    timings: t.field({ type: TurnTimingsRef, nullable: true, resolve: (turn) => turn.timings }),
    startedAt: t.field({ type: 'DateTime', resolve: (turn) => turn.startedAt }),
    finishedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the turn settled, with its outcome and conversation memory stored. Null while it runs, and for the moment an interrupted turn takes to stop.',
      resolve: (turn) => turn.finishedAt,
    }),
  }),
});

const TurnTimingsRef = builder.objectRef<{ sttMs: number | null; agentMs: number | null; firstAudioMs: number | null; totalMs: number }>('TurnTimings').implement({
  description: 'Milliseconds from the start of the turn (firstAudioMs, totalMs) or spent in a stage (sttMs, agentMs).',
  fields: (t) => ({
    sttMs: t.exposeInt('sttMs', { nullable: true, description: 'Speech-to-text; null for text turns.' }),
    agentMs: t.exposeInt('agentMs', { nullable: true, description: 'Agent (LLM and tools), streamed.' }),
    firstAudioMs: t.exposeInt('firstAudioMs', { nullable: true, description: 'Until the first audio chunk; null when no audio was produced.' }),
    totalMs: t.exposeInt('totalMs'),
  }),
});

const VoiceSessionRef = builder.objectRef<{ id: string; createdAt: Date; updatedAt: Date; turns: TurnRecord[] }>('VoiceSession');
builder.objectType(
  VoiceSessionRef,
  {
    description: 'A conversation: its turns in the order they started. The agent remembers earlier turns of the session.',
    fields: (t) => ({
      id: t.exposeID('id'),
      createdAt: t.field({ type: 'DateTime', resolve: (s) => s.createdAt }),
      updatedAt: t.field({ type: 'DateTime', resolve: (s) => s.updatedAt }),
      turns: t.field({ type: [VoiceTurnRef], resolve: (s) => s.turns }),
    }),
  },
);

// ---- Events ----

type EventOf<T extends VoiceEventShape['type']> = Extract<VoiceEventShape, { type: T }>;

export const VoiceEventRef = builder.interfaceRef<VoiceEventShape>('VoiceEvent').implement({
  description: 'One step of a turn. seq is 1, 2, 3 … within the turn; a turn ends with exactly one TurnCompletedEvent or TurnFailedEvent.',
  resolveType: (event) => event.type,
  fields: (t) => ({
    id: t.id({
      description: 'Stable key of this event for normalised client caches (Apollo, urql): "<turnId>:<seq>". Opaque; not a Node id.',
      resolve: (e) => `${e.turnId}:${e.seq}`,
    }),
    sessionId: t.exposeID('sessionId'),
    turnId: t.exposeID('turnId'),
    seq: t.exposeInt('seq'),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
  }),
});

function eventType<T extends VoiceEventShape['type']>(name: T, description: string, fields: (t: any) => Record<string, unknown>) {
  return builder.objectType(builder.objectRef<EventOf<T>>(name), {
    description,
    interfaces: [VoiceEventRef],
    isTypeOf: (value) => (value as VoiceEventShape).type === name,
    fields: fields as never,
  });
}

eventType('TranscriptEvent', 'What the user said (speech-to-text), or the typed text.', (t) => ({ text: t.exposeString('text') }));
eventType('ToolCallEvent', 'The agent called a data tool.', (t) => ({
  tool: t.exposeString('tool'),
  arguments: t.exposeString('arguments', { description: 'The tool arguments as a JSON object string.' }),
}));
eventType('ToolResultEvent', 'A data tool answered; summary is its spoken one-line result.', (t) => ({
  tool: t.exposeString('tool'),
  summary: t.exposeString('summary'),
}));
eventType('ResponseTextEvent', 'One sentence of the answer, as soon as the agent has written it.', (t) => ({ text: t.exposeString('text') }));
eventType('AudioChunkEvent', 'The spoken audio of one chunk of the answer (a complete WAV file), in order of index.', (t) => ({
  index: t.exposeInt('index', { description: '0, 1, 2 … in playback order.' }),
  mimeType: t.exposeString('mimeType'),
  sampleRate: t.exposeInt('sampleRate'),
  data: t.exposeString('data', { description: 'base64 of a WAV file.' }),
  text: t.exposeString('text', { description: 'The words in this chunk (at most 200 characters).' }),
}));
const TurnTimingsField = (t: any) => t.field({ type: TurnTimingsRef, resolve: (e: EventOf<'TurnCompletedEvent'>) => e.timings });
eventType('TurnCompletedEvent', 'The turn ended with an answer.', (t) => ({
  responseText: t.exposeString('responseText'),
  timings: TurnTimingsField(t),
}));
eventType('TurnFailedEvent', 'The turn ended without an answer.', (t) => ({
  code: t.field({ type: VoiceErrorCodeEnum, resolve: (e: EventOf<'TurnFailedEvent'>) => e.code as VoiceErrorCode }),
  message: t.exposeString('message'),
  retryable: t.exposeBoolean('retryable', { description: 'Whether sending the same turn again may succeed.' }),
}));

// ---- Operations ----

builder.mutationField('voiceTurn', (t) =>
  t.field({
    type: VoiceTurnRef,
    description: 'Starts a turn and returns at once (status RUNNING); follow it with Subscription.voiceEvents(sessionId, turnId).',
    args: { input: t.arg({ type: VoiceTurnInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (!ctx.identity.roles.has('voice')) {
        throw new GraphQLError('Forbidden: voiceTurn needs the voice role in your token.', { extensions: { code: 'FORBIDDEN' } });
      }
      const voice = voiceOf(ctx);
      const started = await voice
        .startTurn(ownerOf(ctx), {
          sessionId: input.sessionId != null ? String(input.sessionId) : null,
          text: input.text,
          audio: input.audio,
          audioFormat: input.audioFormat,
          voice: input.voice,
        })
        .catch(limitRefusal);
      return {
        ...started,
        status: started.status as TurnStatus,
        inputKind: input.text != null ? 'TEXT' : 'AUDIO',
        transcript: null,
        responseText: null,
        errorCode: null,
        errorMessage: null,
        timings: null,
        finishedAt: null,
      } satisfies TurnRecord;
    },
  }),
);

builder.mutationField('cancelVoiceTurn', (t) =>
  t.boolean({
    description:
      'Ends a running turn, wherever it runs: its events end with TurnFailedEvent CANCELLED and it is stored INTERRUPTED. True when it was running and has ended; false when it had already ended.',
    args: {
      sessionId: t.arg.id({ required: true, validate: { schema: z.string().regex(SESSION_ID, 'must be the sessionId returned by voiceTurn') } }),
      turnId: t.arg.id({ required: true, validate: { schema: z.string().regex(TURN_ID, 'must be the id of a turn returned by voiceTurn') } }),
    },
    resolve: async (_root, args, ctx) => {
      if (!ctx.identity.roles.has('voice')) {
        throw new GraphQLError('Forbidden: cancelVoiceTurn needs the voice role in your token.', { extensions: { code: 'FORBIDDEN' } });
      }
      return voiceOf(ctx).cancelTurn(ownerOf(ctx), String(args.sessionId), String(args.turnId));
    },
  }),
);

builder.subscriptionField('voiceEvents', (t) =>
  t.field({
    type: VoiceEventRef,
    description:
      "A session's events in order, or one turn's (from its first event even when subscribing late, then live, completing after its last).",
    args: {
      sessionId: t.arg.id({ required: true, validate: { schema: z.string().regex(SESSION_ID, 'must be the sessionId returned by voiceTurn') } }),
      turnId: t.arg.id({ validate: { schema: z.string().regex(TURN_ID, 'must be the id of a turn returned by voiceTurn') } }),
    },
    subscribe: async (_root, args, ctx) => {
      return await voiceOf(ctx).events(ownerOf(ctx), String(args.sessionId), args.turnId != null ? String(args.turnId) : null);
    },
    resolve: (event: VoiceEventShape) => event,
    // Events are immutable objects shared by every subscriber and their fields read nothing but the event, so one
    // execution per event serves every subscriber with the same operation (src/server/shared-subscriptions.ts).
    extensions: { [SHARED_EVENT_RESULTS]: true },
  }),
);

const VoiceCapabilitiesRef = builder
  .objectRef<{ provider: string; speechToText: string | null; textToSpeech: string | null; model: string; maxChunkCharacters: number }>('VoiceCapabilities')
  .implement({
    description: 'What this server can do with voice, so a client can choose between sending audio and text.',
    fields: (t) => ({
      provider: t.exposeString('provider', { description: 'groq or local (VOICE_PROVIDER).' }),
      speechToText: t.exposeString('speechToText', { nullable: true, description: 'The recogniser; null when audio turns cannot be transcribed here (send text).' }),
      textToSpeech: t.exposeString('textToSpeech', { nullable: true, description: 'The synthesiser; null when answers come as text only.' }),
      model: t.exposeString('model'),
      audioFormats: t.field({
        type: [AudioFormatEnum],
        description: 'Formats audio may be sent in (the local recogniser reads WAV only).',
        resolve: (c) => (c.provider === 'groq' ? [...AUDIO_FORMATS] : ['WAV' as const]),
      }),
      maxAudioBytes: t.int({ resolve: () => MAX_AUDIO_BYTES }),
      maxChunkCharacters: t.exposeInt('maxChunkCharacters', { description: 'The longest text of one AudioChunkEvent (the synthesiser’s input limit).' }),
    }),
  });

builder.queryField('voiceCapabilities', (t) =>
  t.field({
    type: VoiceCapabilitiesRef,
    resolve: (_root, _args, ctx) => {
      const voice = voiceOf(ctx);
      return { provider: voice.provider, ...voice.capabilities };
    },
  }),
);

builder.queryField('voiceSession', (t) =>
  t.field({
    type: VoiceSessionRef,
    nullable: true,
    description: 'A voice session and its turns (stored in the database; survives restarts). Null when unknown.',
    args: { sessionId: t.arg.id({ required: true, validate: { schema: z.string().regex(SESSION_ID, sessionIdRule) } }) },
    resolve: (_root, args, ctx) => voiceOf(ctx).session(ownerOf(ctx), String(args.sessionId)),
  }),
);
