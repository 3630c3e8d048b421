// The voice page (/voice): push-to-talk and hands-free questions recorded as 16 kHz WAV, typed questions, the answer
// streamed over graphql-ws (transcript, tool calls, sentences, timings) and its audio played chunk by chunk;
// barge-in (speaking or asking again stops playback, and the server interrupts the running turn of the session) and
// cancel (Mutation.cancelVoiceTurn). Reference: docs/voice.md, "The browser page".
import { Microphone, MicrophoneError, describeMicrophoneError } from './capture.js';
import { GraphQLSocket, SocketClosedError } from './gql-ws.js';
import { ChunkPlayer } from './player.js';
import { EnergyVad } from './vad.js';
import { recordingToWavBase64 } from './wav.js';

const VOICE_TURN = 'mutation VoiceTurn($input: VoiceTurnInput!) { voiceTurn(input: $input) { id sessionId status } }';
const CANCEL_TURN = 'mutation CancelVoiceTurn($sessionId: ID!, $turnId: ID!) { cancelVoiceTurn(sessionId: $sessionId, turnId: $turnId) }';
const CAPABILITIES = 'query VoiceCapabilities { voiceCapabilities { provider speechToText textToSpeech maxAudioBytes } }';
const SESSION = 'query VoiceSession($sessionId: ID!) { voiceSession(sessionId: $sessionId) { turns { id status transcript responseText errorCode errorMessage } } }';
const EVENTS = `subscription VoiceEvents($sessionId: ID!, $turnId: ID) {
  voiceEvents(sessionId: $sessionId, turnId: $turnId) {
    __typename turnId seq
    ... on TranscriptEvent { text }
    ... on ToolCallEvent { tool arguments }
    ... on ToolResultEvent { tool summary }
    ... on ResponseTextEvent { text }
    ... on AudioChunkEvent { index mimeType data }
    ... on TurnCompletedEvent { responseText timings { sttMs agentMs firstAudioMs totalMs } }
    ... on TurnFailedEvent { code message retryable }
  }
}`;

const TOKEN_KEY = 'udc-voice-token';
const SESSION_KEY = 'udc-voice-session';
/** Shorter recordings are a slip of the finger, not a question. */
const MIN_RECORDING_MS = 300;
/** A push-to-talk recording is sent when it reaches this length, as if released. */
const MAX_RECORDING_MS = 60_000;

const $ = (id) => document.getElementById(id);
const ui = {
  app: $('app'),
  talk: $('talk'),
  handsFree: $('hands-free'),
  cancel: $('cancel'),
  level: $('level'),
  form: $('ask-form'),
  question: $('question'),
  status: $('status'),
  error: $('error'),
  answer: $('answer'),
  log: $('log'),
  newSession: $('new-session'),
  settings: $('settings'),
  tokenForm: $('token-form'),
  token: $('token'),
  remember: $('remember'),
  forget: $('forget'),
  serverNote: $('server-note'),
};

// ---- storage (it may throw: private modes, blocked cookies) ----

function stored(key) {
  try {
    return localStorage.getItem(key) ?? sessionStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}
function store(key, value, persistent) {
  try {
    localStorage.removeItem(key);
    sessionStorage.removeItem(key);
    if (value) (persistent ? localStorage : sessionStorage).setItem(key, value);
  } catch {
    // not kept: the page still works for this visit
  }
}

function newSessionId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

// ---- state ----

const state = {
  /** The conversation: chosen here (the server accepts a client's own id), so two quick questions share it. */
  sessionId: (() => {
    try {
      return sessionStorage.getItem(SESSION_KEY) || null;
    } catch {
      return null;
    }
  })(),
  capabilities: null,
  connected: false,
  /** The view of the latest turn asked. */
  current: null,
  /** The turn whose sentences go to the answer region and whose audio plays; null after a barge-in. */
  liveTurnId: null,
  /** Counts asks, so that a slow voiceTurn answer never makes an older question the live one. */
  asked: 0,
  sending: 0,
  /** Push-to-talk in progress: { via, frames, ms, recording, released }. */
  ptt: null,
  handsFree: false,
  vad: new EnergyVad(),
  wasPlaying: false,
};

const endpoint = new URL('graphql', location.href);
const wsUrl = new URL(endpoint);
wsUrl.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

const socket = new GraphQLSocket({
  url: wsUrl.href,
  connectionParams: () => {
    const token = stored(TOKEN_KEY);
    return token ? { authorization: `Bearer ${token}` } : {};
  },
});

// One AudioContext for capture and playback, made on the first gesture (Safari and autoplay policies want that).
let context = null;
let player = null;
let mic = null;
function audio() {
  if (!context) {
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    context = new AudioContextClass();
    player = new ChunkPlayer(context, {
      onChange: () => update(),
      onError: (message) => console.warn(message),
    });
    mic = new Microphone(context, onFrame);
    mic.onEnded = () => {
      state.handsFree = false;
      state.ptt = null;
      showError('The microphone stopped (unplugged, or its permission was withdrawn). Turn hands-free on again, or type your question.');
      update();
    };
  }
  if (context.state === 'suspended') context.resume().catch(() => {});
  return context;
}
const playing = () => !!player?.playing;

// ---- messages ----

function setStatus(text) {
  ui.status.textContent = text;
}
function showError(text) {
  ui.error.textContent = text;
}
function clearError() {
  ui.error.textContent = '';
}
function idleStatus() {
  if (!state.connected) return ui.status.textContent;
  if (state.handsFree) return 'Listening: ask your question.';
  return state.capabilities?.speechToText ? 'Ready: hold to talk, turn on hands-free, or type a question.' : 'Ready: type a question.';
}

const TOKEN_HELP = 'Paste one under “Access token” below (on a development server, `npm run token` mints one).';

/** A refused or lost connection, in words. */
function socketProblem(error) {
  if (!(error instanceof SocketClosedError)) return `The server could not be reached (${error?.message ?? error}).`;
  if (error.auth) {
    ui.settings.open = true;
    return stored(TOKEN_KEY)
      ? `The server refused your access token: it is invalid or has expired. ${TOKEN_HELP}`
      : `This server needs an access token. ${TOKEN_HELP}`;
  }
  return error.message;
}

/** A GraphQL error of voiceTurn / cancelVoiceTurn, in words. */
function graphqlProblem(error) {
  const code = error?.extensions?.code;
  const message = error?.message ?? 'Unknown error';
  if (code === 'UNAUTHENTICATED') return `This server needs an access token. ${TOKEN_HELP}`;
  if (code === 'FORBIDDEN') return `${message} Ask for a token with the voice role.`;
  if (code === 'RATE_LIMITED') {
    const wait = error.extensions.retryAfterSeconds;
    return `${message}${wait ? ` Try again in ${wait} s.` : ''}`;
  }
  if (code === 'VOICE_DISABLED') return 'Voice is not enabled on this server.';
  return message;
}

const FAILURE_ADVICE = {
  BAD_AUDIO: 'The recording could not be understood: speak closer to the microphone, or type the question.',
  STT_UNAVAILABLE: 'This server cannot transcribe speech: type your question instead.',
  PROVIDER_AUTH: 'The server’s speech provider rejected its key: tell whoever runs the server.',
};

// ---- one turn in the conversation log ----

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatArguments(json) {
  try {
    const args = JSON.parse(json);
    return Object.entries(args)
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
      .join(', ');
  } catch {
    return json;
  }
}

function createTurnView(input, spokenSeconds) {
  const item = element('li', 'turn');
  item.dataset.outcome = 'sending';
  const you = element('p', 'you');
  const transcript = element('span', 'transcript', input?.text ?? '…');
  you.append(element('span', 'who who-you', 'You:'), ' ', transcript);
  if (spokenSeconds !== undefined) you.append(' ', element('span', 'meta', `(spoken, ${spokenSeconds.toFixed(1)} s)`));
  const tools = element('ul', 'tools');
  const assistant = element('p', 'assistant');
  assistant.hidden = true;
  const answer = element('span', 'text');
  assistant.append(element('span', 'who', 'Assistant:'), ' ', answer);
  const timings = element('p', 'timings');
  const failure = element('p', 'failure');
  failure.hidden = true;
  item.append(you, tools, assistant, timings, failure);
  // Oldest first, as a conversation reads; the new turn is scrolled into view.
  ui.log.append(item);
  item.scrollIntoView?.({ block: 'nearest' });

  const marks = [];
  const view = {
    item,
    input,
    turnId: null,
    sessionId: null,
    running: false,
    sentAt: performance.now(),
    unsubscribe: () => {},
    sentences: [],
    chunks: 0,
    mark(label) {
      marks.push(`${label} +${Math.round(performance.now() - view.sentAt)} ms`);
      timings.textContent = marks.join(' · ');
    },
    started(turn) {
      view.turnId = turn.id;
      view.sessionId = turn.sessionId;
      view.running = true;
      item.dataset.turnId = turn.id;
      item.dataset.outcome = 'running';
    },
    transcript(text) {
      transcript.textContent = text;
      view.mark('heard');
    },
    toolCall(tool, args) {
      const line = element('li', 'tool', `Looked up ${tool}(${formatArguments(args)})`);
      line.dataset.tool = tool;
      tools.append(line);
      if (tools.children.length === 1) view.mark('first tool');
    },
    toolResult(tool, summary) {
      const line = [...tools.children].reverse().find((li) => li.dataset.tool === tool && !li.dataset.done);
      const target = line ?? tools.appendChild(element('li', 'tool', tool));
      target.dataset.done = 'true';
      target.append(' → ', element('q', 'summary', summary));
    },
    sentence(text) {
      view.sentences.push(text);
      assistant.hidden = false;
      answer.textContent = view.sentences.join(' ');
      if (view.sentences.length === 1) view.mark('first sentence');
    },
    audio() {
      view.chunks += 1;
      item.dataset.chunks = String(view.chunks);
      if (view.chunks === 1) view.mark('first audio');
    },
    completed(responseText, t) {
      view.running = false;
      item.dataset.outcome = 'completed';
      assistant.hidden = false;
      answer.textContent = responseText;
      const server = [
        t.sttMs != null ? `speech-to-text ${t.sttMs} ms` : null,
        t.agentMs != null ? `agent ${t.agentMs} ms` : null,
        t.firstAudioMs != null ? `first audio ${t.firstAudioMs} ms` : null,
        `total ${t.totalMs} ms`,
      ].filter(Boolean);
      marks.push(`server: ${server.join(', ')}`);
      timings.textContent = marks.join(' · ');
    },
    failed(code, message, retryable) {
      view.running = false;
      item.dataset.outcome = 'failed';
      item.dataset.code = code;
      failure.hidden = false;
      failure.replaceChildren();
      if (code === 'INTERRUPTED') {
        failure.textContent = view === state.current ? `Interrupted: ${message}` : 'Interrupted by your next question.';
        return;
      }
      if (code === 'CANCELLED') {
        failure.textContent = 'Cancelled.';
        return;
      }
      const advice = FAILURE_ADVICE[code] ?? (retryable ? 'You can try again.' : 'Trying again will not help.');
      failure.textContent = `Failed (${code}): ${message} ${advice}`;
      if (retryable && view.input) {
        const retry = element('button', 'retry', 'Try again');
        retry.type = 'button';
        retry.addEventListener('click', () => ask(view.input));
        failure.append(' ', retry);
      }
    },
    refused(text) {
      view.running = false;
      item.dataset.outcome = 'refused';
      failure.hidden = false;
      failure.textContent = text;
    },
  };
  return view;
}

// ---- asking ----

function setSession(id) {
  state.sessionId = id;
  try {
    sessionStorage.setItem(SESSION_KEY, id);
  } catch {
    // kept for this page only
  }
}

/** Barge-in: the answer playing stops at once and its remaining audio and text are no longer followed. */
function bargeIn() {
  state.liveTurnId = null;
  player?.stop();
  update();
}

async function ask(input, spokenSeconds) {
  clearError();
  audio();
  bargeIn();
  if (!state.sessionId) setSession(newSessionId());
  const asked = ++state.asked;
  const view = createTurnView(input, spokenSeconds);
  state.current = view;
  ui.answer.replaceChildren();
  state.sending += 1;
  update();
  setStatus(input.text ? 'Asking…' : 'Sending your question…');
  let result;
  try {
    result = await socket.request(VOICE_TURN, { input: { ...input, sessionId: state.sessionId } });
  } catch (error) {
    state.sending -= 1;
    const text = socketProblem(error);
    view.refused(text);
    showError(text);
    setStatus(idleStatus());
    update();
    return;
  }
  state.sending -= 1;
  if (result.errors?.length) {
    const text = graphqlProblem(result.errors[0]);
    view.refused(text);
    if (asked === state.asked) {
      showError(text);
      setStatus(idleStatus());
    }
    update();
    return;
  }
  const turn = result.data.voiceTurn;
  view.started(turn);
  if (asked === state.asked) {
    state.liveTurnId = turn.id;
    player?.begin(turn.id);
    setStatus(input.text ? 'Thinking…' : 'Listening to your recording…');
  }
  view.unsubscribe = socket.subscribe(
    { query: EVENTS, variables: { sessionId: turn.sessionId, turnId: turn.id } },
    {
      next: (response) => onEvent(view, response),
      error: (error) => {
        if (!view.running) return;
        const text = Array.isArray(error) ? error.map((e) => e.message).join('; ') : socketProblem(error);
        view.refused(`The answer could not be followed: ${text}`);
        if (view === state.current) showError(`The answer could not be followed: ${text}`);
        update();
      },
      complete: () => update(),
    },
  );
  update();
}

function onEvent(view, response) {
  if (response.errors?.length && !response.data?.voiceEvents) {
    const text = response.errors.map((e) => e.message).join('; ');
    view.refused(text);
    if (view === state.current) showError(text);
    update();
    return;
  }
  const event = response.data?.voiceEvents;
  if (!event) return;
  const live = event.turnId === state.liveTurnId;
  switch (event.__typename) {
    case 'TranscriptEvent':
      view.transcript(event.text);
      if (live) setStatus('Thinking…');
      break;
    case 'ToolCallEvent':
      view.toolCall(event.tool, event.arguments);
      if (live) setStatus('Looking it up…');
      break;
    case 'ToolResultEvent':
      view.toolResult(event.tool, event.summary);
      break;
    case 'ResponseTextEvent':
      view.sentence(event.text);
      // Each sentence is its own node, so a screen reader announces it as it arrives.
      if (live) ui.answer.append(element('span', 'sentence', `${event.text} `));
      break;
    case 'AudioChunkEvent':
      view.audio();
      if (live) {
        player?.add(event.turnId, event.index, event.data);
        setStatus('Speaking…');
      }
      break;
    case 'TurnCompletedEvent':
      view.completed(event.responseText, event.timings);
      if (live) {
        if (!ui.answer.textContent.trim()) ui.answer.textContent = event.responseText;
        if (!playing()) setStatus(`Done. ${idleStatus()}`);
      }
      break;
    case 'TurnFailedEvent':
      view.failed(event.code, event.message, event.retryable);
      if (view === state.current) {
        if (event.code === 'CANCELLED') setStatus(`Cancelled. ${idleStatus()}`);
        else {
          const advice = FAILURE_ADVICE[event.code] ?? (event.retryable ? 'You can try again.' : 'Trying again will not help.');
          showError(`The question failed (${event.code}): ${event.message} ${advice}`);
          setStatus(idleStatus());
        }
        if (live) player?.stop();
      }
      break;
    default:
      break;
  }
  update();
}

async function cancel() {
  const view = state.current;
  const stopped = player?.stop();
  state.liveTurnId = null;
  update();
  if (!view?.running || !view.turnId) {
    if (stopped) setStatus(`Stopped. ${idleStatus()}`);
    return;
  }
  setStatus('Cancelling…');
  let result;
  try {
    result = await socket.request(CANCEL_TURN, { sessionId: view.sessionId, turnId: view.turnId });
  } catch (error) {
    showError(socketProblem(error));
    return;
  }
  if (result.errors?.length) {
    const message = result.errors[0].message;
    showError(/cancelVoiceTurn/.test(message) && /Cannot query field/.test(message) ? 'This server cannot cancel a running answer (it has no cancelVoiceTurn); its audio is stopped here.' : graphqlProblem(result.errors[0]));
    return;
  }
  // true: the turn ends with TurnFailedEvent CANCELLED, which the subscription shows; false: it had already ended.
  if (result.data?.cancelVoiceTurn === false) setStatus(`That answer had already finished. ${idleStatus()}`);
}

// ---- the microphone: push-to-talk and hands-free ----

let levelFrame = 0;
let level = 0;
function onFrame(samples, rms, frameMs) {
  level = rms;
  if (!levelFrame) {
    levelFrame = requestAnimationFrame(() => {
      levelFrame = 0;
      ui.level.style.width = `${Math.min(100, Math.round(level * 400))}%`;
    });
  }
  const ptt = state.ptt;
  if (ptt?.recording) {
    ptt.frames.push(samples);
    ptt.ms += frameMs;
    if (ptt.ms >= MAX_RECORDING_MS) pressEnd(ptt.via);
    return;
  }
  if (!state.handsFree) return;
  const event = state.vad.push(samples, rms, frameMs, playing());
  if (!event) return;
  if (event.type === 'start') {
    bargeIn();
    setStatus('Hearing you…');
    ui.app.dataset.heard = String(Number(ui.app.dataset.heard ?? 0) + 1);
  } else if (event.type === 'end') {
    sendRecording(event.frames);
  } else {
    setStatus(idleStatus());
  }
}

function sendRecording(frames) {
  const { base64, seconds, bytes } = recordingToWavBase64(frames, context.sampleRate);
  const limit = state.capabilities?.maxAudioBytes;
  if (limit && bytes > limit) {
    showError(`That recording is too long (${(bytes / 1048576).toFixed(1)} MB; the server takes ${(limit / 1048576).toFixed(0)} MB). Ask a shorter question.`);
    return;
  }
  ask({ audio: base64, audioFormat: 'WAV' }, seconds);
}

function micFailed(error) {
  const problem = error instanceof MicrophoneError ? error : describeMicrophoneError(error);
  ui.app.dataset.microphone = problem.kind;
  showError(problem.message);
  setStatus(idleStatus());
}

async function pressStart(via) {
  if (state.ptt || !canSpeak()) return;
  clearError();
  audio();
  bargeIn();
  const ptt = { via, frames: [], ms: 0, recording: false, released: false };
  state.ptt = ptt;
  state.vad.reset();
  update();
  if (!mic.isOpen) setStatus('Opening the microphone…');
  try {
    await mic.open({ echoCancellation: false });
  } catch (error) {
    if (state.ptt === ptt) state.ptt = null;
    micFailed(error);
    update();
    return;
  }
  if (state.ptt !== ptt) return;
  if (ptt.released) {
    state.ptt = null;
    if (!state.handsFree) mic.close();
    setStatus('Keep holding while you speak: the microphone takes a moment to open.');
    update();
    return;
  }
  ptt.recording = true;
  setStatus('Listening… let go to send.');
  update();
}

function pressEnd(via) {
  const ptt = state.ptt;
  if (!ptt || ptt.via !== via) return;
  if (!ptt.recording) {
    ptt.released = true;
    return;
  }
  state.ptt = null;
  if (!state.handsFree) mic.close();
  update();
  if (ptt.ms < MIN_RECORDING_MS) {
    setStatus(`Too short: hold while you speak. ${idleStatus()}`);
    return;
  }
  sendRecording(ptt.frames);
}

async function toggleHandsFree() {
  if (state.handsFree) {
    state.handsFree = false;
    state.vad.reset();
    if (!state.ptt) mic?.close();
    setStatus(idleStatus());
    update();
    return;
  }
  clearError();
  audio();
  state.handsFree = true;
  state.vad.reset();
  update();
  if (!mic.isOpen) setStatus('Opening the microphone…');
  try {
    await mic.open({ echoCancellation: true });
  } catch (error) {
    state.handsFree = false;
    micFailed(error);
    update();
    return;
  }
  if (!state.handsFree) {
    if (!state.ptt) mic.close();
    return;
  }
  setStatus(idleStatus());
  update();
}

const canSpeak = () => state.connected && !!state.capabilities?.speechToText;

// ---- controls ----

function update() {
  const running = !!state.current?.running;
  const isPlaying = playing();
  ui.talk.disabled = !canSpeak();
  ui.handsFree.disabled = !canSpeak();
  ui.handsFree.setAttribute('aria-pressed', String(state.handsFree));
  ui.talk.classList.toggle('active', !!state.ptt);
  ui.cancel.disabled = !(running || isPlaying || state.sending > 0);
  const app = ui.app.dataset;
  app.state = state.ptt?.recording
    ? 'recording'
    : state.ptt
      ? 'opening'
      : state.sending > 0
        ? 'sending'
        : running
          ? 'running'
          : isPlaying
            ? 'speaking'
            : state.handsFree
              ? 'listening'
              : state.connected
                ? 'ready'
                : 'offline';
  if (mic?.isOpen) app.microphone = 'open';
  else if (app.microphone === 'open') {
    app.microphone = 'closed';
    ui.level.style.width = '0';
  }
  app.playing = String(isPlaying);
  app.chunksStarted = String(player?.started ?? 0);
  app.chunksPlayed = String(player?.played ?? 0);
  app.session = state.sessionId ?? '';
  app.turn = state.current?.turnId ?? '';
  if (state.wasPlaying && !isPlaying && !running && state.sending === 0 && !state.ptt) setStatus(idleStatus());
  state.wasPlaying = isPlaying;
}

const inTextField = (target) => target instanceof Element && !!target.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])');
/** Elements that Space activates themselves (other than the talk button). */
const ownsSpace = (target) => target instanceof Element && target !== ui.talk && !!target.closest('button, summary, a[href], label');
const isSpace = (event) => event.key === ' ' || event.code === 'Space';

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    if (!ui.cancel.disabled) {
      event.preventDefault();
      cancel();
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const talkKey = (isSpace(event) && !inTextField(event.target) && !ownsSpace(event.target)) || (event.key === 'Enter' && event.target === ui.talk);
  if (!talkKey) return;
  event.preventDefault();
  if (!event.repeat) pressStart('key');
});
document.addEventListener('keyup', (event) => {
  if ((isSpace(event) || event.key === 'Enter') && state.ptt?.via === 'key') {
    event.preventDefault();
    pressEnd('key');
  }
});
// Letting go outside the window, or switching away, ends the recording rather than leaving it running.
window.addEventListener('blur', () => state.ptt && pressEnd(state.ptt.via));

ui.talk.addEventListener('pointerdown', (event) => {
  if (event.button !== 0 || ui.talk.disabled) return;
  event.preventDefault();
  ui.talk.focus();
  ui.talk.setPointerCapture?.(event.pointerId);
  pressStart('pointer');
});
for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) ui.talk.addEventListener(type, () => pressEnd('pointer'));
ui.talk.addEventListener('contextmenu', (event) => event.preventDefault());

ui.handsFree.addEventListener('click', () => toggleHandsFree());
ui.cancel.addEventListener('click', () => cancel());

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.question.value.trim();
  if (!text) {
    showError('Type a question first.');
    ui.question.focus();
    return;
  }
  ui.question.value = '';
  ask({ text });
});

ui.newSession.addEventListener('click', () => {
  bargeIn();
  setSession(newSessionId());
  state.current = null;
  ui.log.replaceChildren();
  ui.answer.replaceChildren();
  clearError();
  setStatus(`New conversation. ${idleStatus()}`);
  update();
});

ui.token.value = stored(TOKEN_KEY);
try {
  ui.remember.checked = !!localStorage.getItem(TOKEN_KEY);
} catch {
  ui.remember.checked = false;
}
ui.tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = ui.token.value.trim().replace(/^Bearer\s+/i, '');
  store(TOKEN_KEY, token, ui.remember.checked);
  ui.token.value = token;
  socket.close();
  connect();
});
ui.forget.addEventListener('click', () => {
  store(TOKEN_KEY, '', false);
  ui.token.value = '';
  socket.close();
  connect();
});

// ---- start ----

async function connect() {
  clearError();
  state.connected = false;
  update();
  setStatus('Connecting…');
  let result;
  try {
    result = await socket.request(CAPABILITIES);
  } catch (error) {
    if (error instanceof SocketClosedError && error.code === 1000) return;
    showError(socketProblem(error));
    setStatus('Not connected.');
    update();
    return;
  }
  if (result.errors?.length) {
    showError(graphqlProblem(result.errors[0]));
    setStatus('Not connected.');
    update();
    return;
  }
  state.capabilities = result.data.voiceCapabilities;
  state.connected = true;
  const caps = state.capabilities;
  const notes = [];
  if (!caps.speechToText) notes.push('This server cannot transcribe speech: type your questions.');
  if (!caps.textToSpeech) notes.push('Answers come as text only (no speech synthesiser on this server).');
  ui.serverNote.textContent = notes.length ? notes.join(' ') : `Customers, support tickets and metrics: ask aloud or type (${caps.provider} voice).`;
  setStatus(idleStatus());
  update();
  if (state.sessionId && !ui.log.children.length) showHistory(state.sessionId);
}

/** After a reload: the turns of this tab's conversation so far, from the server. */
async function showHistory(sessionId) {
  const result = await socket.request(SESSION, { sessionId }).catch(() => null);
  const turns = result?.data?.voiceSession?.turns;
  if (!turns || state.sessionId !== sessionId || ui.log.children.length) return;
  for (const turn of turns) {
    const view = createTurnView({ text: turn.transcript ?? '(not understood)' });
    view.started({ id: turn.id, sessionId });
    if (turn.status === 'COMPLETED') view.completed(turn.responseText ?? '', { totalMs: 0 });
    else if (turn.status === 'RUNNING') view.item.dataset.outcome = 'earlier';
    else view.failed(turn.errorCode ?? turn.status, turn.errorMessage ?? '', false);
    view.running = false;
    // Timings of another visit mean nothing here.
    view.item.querySelector('.timings').textContent = '';
  }
}

update();
connect();
