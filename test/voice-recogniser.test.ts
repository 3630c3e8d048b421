// The offline recogniser (pocketsphinx with the domain grammar, checked against a free phone loop): every question the
// docs list as sayable is heard right in espeak-ng's default and en-us voices and answered as the typed question is,
// and speech that is none of the grammar's questions ends NOT_UNDERSTOOD ("Sorry, I didn't catch that"), never with
// another question's answer. Recordings are made the README's way: `espeak-ng [-v en-us] -w question.wav "…"`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domainGrammar, normalize, spokenNameForms } from '../src/agent/intents';
import { encodeWav } from '../src/voice/audio';
import { grammarDictionary, grammarWords, parseBacktraces, scoreHypothesis } from '../src/voice/providers/local/pocketsphinx';
import { type LocalStt, MIN_CONFIDENCE, createLocalStt } from '../src/voice/providers/local/stt';
import { type TestDatabase, createTestDatabase } from './helpers/database';
import { espeak, speechToolsMissing } from './helpers/speech-tools';
import { generatedDataDir } from './helpers/server';
import { type Dataset, readDataset } from './helpers/truth';
import { type VoiceServer, assertWellFormed, runTurn, startVoiceServer } from './helpers/voice';


const METRICS = ['daily_active_users', 'new_signups', 'revenue', 'churn_rate', 'avg_response_time_hours'];

/** The questions docs/voice.md lists as sayable ("The local intent model understands…"), with the question before a follow-up. */
const LISTED: { question: string; after?: string }[] = [
  { question: 'How many open tickets do we have?' },
  { question: 'How many high priority tickets are open?' },
  { question: 'What about closed ones?', after: 'How many high priority tickets are open?' },
  { question: 'How many active customers do we have?' },
  { question: 'Tell me about customer twelve' },
  { question: 'Tell me about ticket forty two' },
  { question: 'Find customers named acme' },
  { question: 'What is the average daily active users over the last thirty days?' },
  { question: 'How are new sign ups trending?' },
];

/**
 * Speech that is none of the grammar's questions. (Near misses such as "How many open orders do we have?", one word off
 * a question of the grammar, can still be taken for that question: docs/voice.md, "How sure the offline recogniser is".)
 */
const UNSAYABLE = ["What's the weather in Paris tomorrow?", 'Play some music', 'Set a timer for five minutes', 'Cancel my subscription'];

const VOICES = [
  { name: 'default', args: [] as string[] },
  { name: 'en-us', args: ['-v', 'en-us'] },
];

describe('recogniser helpers', () => {
  it('puts the tenant’s customer names in the grammar, most general form first, known words only', () => {
    expect(spokenNameForms(['Acme Analytics', 'Acme Studios', 'The Zzqx Company', 'Blue Sky Foods'], (w) => w !== 'zzqx')).toEqual([
      'acme',
      'blue',
      'acme analytics',
      'acme studios',
      'blue sky',
      'blue sky foods',
    ]);
    const grammar = domainGrammar({ metricNames: METRICS, customerNames: ['Acme Analytics'] });
    expect(grammar).toContain('<name> = acme | acme analytics;');
    expect(grammar).toContain('| <search>;');
    // Without names there is no search rule (JSGF has no empty alternative).
    expect(domainGrammar(METRICS)).not.toContain('<search>');
  });

  it('builds the dictionary of a grammar’s words, with the open [a] accepted where the dictionary has AE', () => {
    const words = grammarWords('#JSGF V1.0;\ngrammar g;\npublic <u> = find [the] <x> | how (is | are);\n<x> = acme;\n');
    expect(words.sort()).toEqual(['acme', 'are', 'find', 'how', 'is', 'the']);
    const prons: Record<string, string[]> = { acme: ['AE K M IY'], how: ['HH AW'] };
    expect(grammarDictionary(['acme', 'how'], (w) => prons[w])).toBe('acme AE K M IY\nacme(2) AA K M IY\nhow HH AW\n');
  });

  it('scores a hypothesis by how far its words fall below the phone loop over the same frames', () => {
    const log = (rows: string) => `INFO: pocketsphinx.c(1168): x (-1)\nword                 start end   pprob ascr       lscr       lback\n${rows}\nINFO: done\n`;
    const grammar = parseBacktraces(log('<sil> 0 9 1.000 -100 0 1\nfind 10 29 1.000 -600 0 1\n(NULL) 29 29 1.000 0 0 1\nacme 30 39 1.000 -400 0 1'));
    expect(grammar).toEqual([
      {
        hypothesis: 'x',
        segments: [
          { word: '<sil>', start: 0, end: 9, ascr: -100 },
          { word: 'find', start: 10, end: 29, ascr: -600 },
          { word: '(NULL)', start: 29, end: 29, ascr: 0 },
          { word: 'acme', start: 30, end: 39, ascr: -400 },
        ],
      },
    ]);
    const loop = parseBacktraces(log('<sil> 0 9 1.000 -100 0 1\nphn_f 10 19 1.000 -200 0 1\nphn_ay 20 39 1.000 -400 0 1'));
    // find: -600 against -200 + half of -400 = -400; acme: -400 against the other half, -200: (-200 - 200) / 30 frames.
    expect(scoreHypothesis(grammar, loop)).toEqual({ confidence: -400 / 30, speechFrames: 30, unexplained: 0 });
    // A phrase fitted to the first part of the speech, the rest put in silence: half the speech is unexplained.
    const partial = parseBacktraces(log('find 10 19 1.000 -200 0 1\n<sil> 20 39 1.000 -900 0 1'));
    expect(scoreHypothesis(partial, loop)).toMatchObject({ confidence: 0, unexplained: 20 / 30 });
  });
});

describe.skipIf(!!speechToolsMissing)(`the offline recogniser on espeak-ng recordings${speechToolsMissing ? ` (skipped: ${speechToolsMissing})` : ''}`, () => {
  let vs: VoiceServer;
  let data: Dataset;
  let database: TestDatabase;
  let stt: LocalStt;
  let wavDir: string;
  let wavCount = 0;

  /** A recording made the README's way: `espeak-ng -w file.wav "…"`. */
  const record = (text: string, voiceArgs: string[]) => {
    const file = join(wavDir, `${wavCount++}.wav`);
    const result = spawnSync(espeak!, [...voiceArgs, '-w', file, text]);
    expect(result.status, result.stderr?.toString()).toBe(0);
    return readFileSync(file).toString('base64');
  };

  beforeAll(async () => {
    wavDir = mkdtempSync(join(tmpdir(), 'udc-recogniser-'));
    // The demo dataset's shape (120 customers, seed 42: three "Acme …"), anchored on yesterday so "the last thirty days" has data.
    const anchorDate = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const dataDir = await generatedDataDir({ customers: 120, tickets: 200, days: 45, seed: 42, anchorDate });
    data = readDataset(dataDir);
    database = await createTestDatabase();
    // The grammar with this tenant's metric and customer names, as the local provider builds it.
    const customerNames = data.customers.map((c) => c.name);
    stt = createLocalStt({ grammar: (known) => domainGrammar({ metricNames: METRICS, customerNames }, known) });
    // The server builds its own recogniser, as in production (providers/index.ts: the grammar from the tenant's data).
    vs = await startVoiceServer({ data: dataDir, database });
  });
  afterAll(async () => {
    await vs?.stop();
    await database?.close();
    if (wavDir) rmSync(wavDir, { recursive: true, force: true });
  });

  for (const voice of VOICES) {
    for (const { question, after } of LISTED) {
      it(`hears "${question}" in the ${voice.name} voice and answers it as the typed question`, async () => {
        // A follow-up is asked in a session whose previous question it refers to: one session for each way of asking.
        const session = async () => (after ? { sessionId: (await runTurn(vs, { text: after })).turn.sessionId } : {});
        const typed = await runTurn(vs, { text: question, ...(await session()) });
        const spoken = await runTurn(vs, { audio: record(question, voice.args), audioFormat: 'WAV', ...(await session()) });
        assertWellFormed(spoken.events);
        const heard = spoken.events[0];
        expect(heard.__typename, JSON.stringify(spoken.events.at(-1))).toBe('TranscriptEvent');
        // Heard as this question: its words (an optional "the" aside), so the same tool call and the same answer.
        const words = (text: string) => normalize(text).replace(/\bthe /g, '');
        expect(words(heard.text!), `heard "${heard.text}"`).toBe(words(question));
        const call = (events: typeof spoken.events) => events.filter((e) => e.__typename === 'ToolCallEvent').map((e) => [e.tool, JSON.parse(e.arguments!)]);
        expect(call(spoken.events)).toEqual(call(typed.events));
        expect(spoken.events.at(-1)!.responseText).toBe(typed.events.at(-1)!.responseText);
      });
    }

    for (const text of UNSAYABLE) {
      it(`does not answer "${text}" (${voice.name} voice): Sorry, I didn't catch that`, async () => {
        const { events } = await runTurn(vs, { audio: record(text, voice.args), audioFormat: 'WAV' });
        assertWellFormed(events);
        expect(events.find((e) => e.__typename === 'ToolCallEvent')).toBeUndefined();
        expect(events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'NOT_UNDERSTOOD', retryable: true });
        expect(events.at(-1)!.message).toMatch(/^Sorry, I didn't catch that/);
      });
    }
  }

  it('answers "Find customers named acme" with the acme matches only, not every customer', async () => {
    const acme = data.customers.filter((c) => /acme/i.test(c.name) || /acme/i.test(c.email));
    expect(acme.length).toBeGreaterThan(0);
    expect(acme.length).toBeLessThan(data.customers.length);
    const { events } = await runTurn(vs, { audio: record('Find customers named acme', []) });
    const call = events.find((e) => e.__typename === 'ToolCallEvent')!;
    expect([call.tool, JSON.parse(call.arguments!)]).toEqual(['search_customers', { query: 'acme' }]);
    const answer = events.at(-1)!.responseText!;
    expect(answer).toMatch(/matching "acme"/);
    expect(answer).toContain(`${acme.length} customers`);
  });

  it('answers the daily-active-users question with that metric, not another one', async () => {
    const { events } = await runTurn(vs, { audio: record('What is the average daily active users over the last thirty days?', []) });
    const call = events.find((e) => e.__typename === 'ToolCallEvent')!;
    expect([call.tool, JSON.parse(call.arguments!)]).toEqual(['get_analytics_summary', { metric: 'daily_active_users', days: 30 }]);
    expect(events.at(-1)!.responseText).toMatch(/^Daily active users averaged/);
  });

  it('keeps BAD_AUDIO for a recording with no speech in it', async () => {
    const silence = encodeWav({ sampleRate: 16000, samples: new Int16Array(16000) }).toString('base64');
    const { events } = await runTurn(vs, { audio: silence });
    expect(events.at(-1)).toMatchObject({ __typename: 'TurnFailedEvent', code: 'BAD_AUDIO' });
  });

  it('scores the listed questions above the threshold and other speech below it', async () => {
    const score = async (text: string, args: string[]) => (await stt.recognise({ bytes: Buffer.from(record(text, args), 'base64'), format: 'WAV' }, {})).confidence;
    for (const voice of VOICES) {
      const heard = await score('How many open tickets do we have?', voice.args);
      expect(heard).toBeGreaterThanOrEqual(MIN_CONFIDENCE);
      const other = await score('Play some music', voice.args);
      expect(other === null || other < MIN_CONFIDENCE).toBe(true);
    }
  });
});
