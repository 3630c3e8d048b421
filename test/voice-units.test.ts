// Pure parts of the voice pipeline: sentence chunking under the TTS limit, WAV decode/encode, the event log's
// replay/follow/retention rules, the local intent parser, and history repair after an interrupted turn.
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { repairHistory } from '../src/agent/graph';
import { domainGrammar, planToolCall, wordsToDigits } from '../src/agent/intents';
import { MAX_AUDIO_BYTES, base64DecodedLength, checkAudio, decodeWav, encodeWav, joinWavs, resample, sniffFormat } from '../src/voice/audio';
import { VoiceError } from '../src/voice/errors';
import { createLocalStt } from '../src/voice/providers/local/stt';
import { createLocalTts } from '../src/voice/providers/local/tts';
import { type VoiceEvent, createEventLog } from '../src/voice/events';
import { createSentenceSplitter, speakable, splitLong, splitSentences } from '../src/voice/sentences';

describe('sentences', () => {
  it('emits each sentence as soon as it ends, whatever the token boundaries', () => {
    const splitter = createSentenceSplitter(200);
    const text = 'I found 25 open tickets. 10 are high priority! Shall I list them? Sure';
    const out: string[] = [];
    for (const token of text.match(/.{1,3}/gs)!) out.push(...splitter.push(token));
    expect(out).toEqual(['I found 25 open tickets.', '10 are high priority!', 'Shall I list them?']);
    expect(splitter.flush()).toEqual(['Sure']);
  });

  it('does not split decimals or cut words, and never exceeds the limit', () => {
    expect(splitSentences('Churn is 2.5 percent. Fine.', 200)).toEqual(['Churn is 2.5 percent.', 'Fine.']);
    const long = `${'word '.repeat(120)}end, and then ${'more '.repeat(60)}done.`;
    const parts = splitSentences(long, 200);
    expect(parts.every((p) => p.length <= 200)).toBe(true);
    expect(parts.join(' ').replace(/\s+/g, ' ')).toBe(long.replace(/\s+/g, ' ').trim());
    expect(splitLong('x'.repeat(450), 200).map((p) => p.length)).toEqual([200, 200, 50]);
  });

  it('strips markdown before speaking', () => {
    expect(speakable('**25** open tickets, `high` priority.')).toBe('25 open tickets, high priority.');
    expect(speakable('- first item')).toBe('first item');
    expect(speakable('2.5 percent, __new_signups__ and daily_active_users')).toBe('2.5 percent, new signups and daily active users');
  });
});

describe('audio', () => {
  const tone = (rate: number, seconds = 0.1) => {
    const samples = new Int16Array(Math.round(rate * seconds));
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(10000 * Math.sin((2 * Math.PI * 300 * i) / rate));
    return { sampleRate: rate, samples };
  };

  it('round-trips WAV and reads streamed headers with placeholder sizes', () => {
    const pcm = tone(22050);
    const wav = encodeWav(pcm);
    expect(decodeWav(wav)).toEqual(pcm);
    const streamed = Buffer.from(wav);
    streamed.writeUInt32LE(0x7fffffff, 4);
    streamed.writeUInt32LE(0x7fffffff, 40);
    expect(decodeWav(streamed).samples.length).toBe(pcm.samples.length);
  });

  it('sniffs formats and reports mismatches and garbage as BAD_AUDIO', () => {
    expect(sniffFormat(encodeWav(tone(16000)))).toBe('WAV');
    expect(sniffFormat(Buffer.from('OggS\0\0\0\0'))).toBe('OGG');
    expect(sniffFormat(Buffer.from('fLaC\0\0\0\0'))).toBe('FLAC');
    expect(sniffFormat(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0]))).toBe('WEBM');
    expect(sniffFormat(Buffer.from('ID3\x04\0\0'))).toBe('MP3');
    expect(() => checkAudio({ bytes: Buffer.from('OggS\0\0\0\0'), format: 'WAV' })).toThrow(/looks like OGG/);
    const headerOnly = encodeWav({ sampleRate: 16000, samples: new Int16Array(0) });
    expect(() => checkAudio({ bytes: headerOnly, format: 'WAV' })).toThrow(VoiceError);
    expect(() => decodeWav(Buffer.from('RIFF\0\0\0\0WAVEdata'))).toThrow(/no data chunk/);
  });

  it('resamples and joins chunks of different rates', () => {
    const down = resample(tone(24000, 1), 16000);
    expect(down.sampleRate).toBe(16000);
    expect(down.samples.length).toBe(16000);
    const joined = decodeWav(joinWavs([encodeWav(tone(24000, 0.5)), encodeWav(tone(22050, 0.5))]));
    expect(joined.sampleRate).toBe(24000);
    expect(joined.samples.length).toBe(24000);
  });

  it('computes the decoded size of base64 without decoding', () => {
    for (const n of [0, 1, 2, 3, 100, 1001]) expect(base64DecodedLength(Buffer.alloc(n).toString('base64'))).toBe(n);
    expect(MAX_AUDIO_BYTES).toBe(25 * 1024 * 1024);
  });
});

describe('event log', () => {
  const collect = async (it: AsyncIterator<VoiceEvent>, n: number) => {
    const out: VoiceEvent[] = [];
    for (let i = 0; i < n; i++) {
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
    }
    return out;
  };

  it('replays from the first event, follows live, and completes after the terminal event', async () => {
    const log = createEventLog();
    const w = log.openTurn('t', 's', 'turn1');
    w.append({ type: 'TranscriptEvent', text: 'hi' });
    w.append({ type: 'ResponseTextEvent', text: 'Hello.' });
    const sub = log.subscribe('t', 's', 'turn1');
    const first = await collect(sub, 2);
    expect(first.map((e) => e.seq)).toEqual([1, 2]);
    const pending = sub.next();
    w.append({ type: 'TurnCompletedEvent', responseText: 'Hello.', timings: { sttMs: null, agentMs: 1, firstAudioMs: null, totalMs: 2 } });
    expect((await pending).value).toMatchObject({ seq: 3, type: 'TurnCompletedEvent' });
    expect((await sub.next()).done).toBe(true);
    // Nothing after the terminal event.
    expect(w.append({ type: 'ResponseTextEvent', text: 'late' })).toBeNull();
    log.close();
  });

  it('drops finished turns after the retention window, and unsubscribing ends a waiting reader', async () => {
    let now = 1_000;
    const log = createEventLog({ retentionMs: 500, now: () => now });
    const w = log.openTurn('t', 's', 'old');
    w.append({ type: 'TurnFailedEvent', code: 'INTERNAL', message: 'x', retryable: false });
    now += 400;
    log.prune();
    expect(log.hasTurn('t', 'old')).toBe(true);
    now += 200;
    log.prune();
    expect(log.hasTurn('t', 'old')).toBe(false);
    expect(() => log.subscribe('t', 's', 'old')).toThrow(/not in the event log/);

    const session = log.subscribe('t', 's');
    const waiting = session.next();
    await session.return();
    expect((await waiting).done).toBe(true);
    log.close();
  });

  it('keeps at most maxFinishedTurns finished turns, never a running one', () => {
    let now = 0;
    const log = createEventLog({ maxFinishedTurns: 2, now: () => now });
    const running = log.openTurn('t', 's', 'running');
    for (const id of ['a', 'b', 'c']) {
      now += 10;
      log.openTurn('t', 's', id).append({ type: 'TurnFailedEvent', code: 'INTERNAL', message: 'x', retryable: false });
    }
    log.prune();
    expect(['running', 'a', 'b', 'c'].map((id) => log.hasTurn('t', id))).toEqual([true, false, true, true]);
    expect(running.ended).toBe(false);
    log.close();
  });

  it('reads without a promise per event (tryNext/onReady): what is there now, a call back once when the log grows, the end', () => {
    const log = createEventLog();
    const w = log.openTurn('t', 's', 'turn1');
    w.append({ type: 'TranscriptEvent', text: 'hi' });
    const sub = log.subscribe('t', 's', 'turn1');
    expect(sub.tryNext!()).toMatchObject({ done: false, value: { seq: 1 } });
    expect(sub.tryNext!()).toBeNull();
    let woken = 0;
    sub.onReady!(() => woken++);
    w.append({ type: 'ResponseTextEvent', text: 'Hello.' });
    w.append({ type: 'ResponseTextEvent', text: 'Again.' });
    expect(woken).toBe(1); // once, however many events arrive before it reads
    expect([sub.tryNext!()?.value, sub.tryNext!()?.value].map((e) => (e as VoiceEvent).seq)).toEqual([2, 3]);
    sub.onReady!(() => woken++);
    w.append({ type: 'TurnCompletedEvent', responseText: 'Hello.', timings: { sttMs: null, agentMs: 1, firstAudioMs: null, totalMs: 2 } });
    expect(woken).toBe(2);
    expect(sub.tryNext!()).toMatchObject({ done: false, value: { seq: 4 } });
    expect(sub.tryNext!()).toEqual({ done: true, value: undefined });

    // A session-wide reader that unsubscribes while waiting is called back and then reads the end.
    const session = log.subscribe('t', 's');
    while (session.tryNext!()) {
      /* the replay */
    }
    let ended = false;
    session.onReady!(() => (ended = session.tryNext!()?.done === true));
    void session.return();
    expect(ended).toBe(true);
    log.close();
  });

  it('keeps tenants apart', () => {
    const log = createEventLog();
    log.openTurn('a', 's', 'x').append({ type: 'TranscriptEvent', text: 'a' });
    expect(log.hasTurn('b', 'x')).toBe(false);
    log.close();
  });
});

describe('local intent model', () => {
  const metrics = ['daily_active_users', 'new_signups', 'avg_response_time_hours'];

  it('reads numbers said as words', () => {
    expect(wordsToDigits('ticket forty two')).toBe('ticket 42');
    expect(wordsToDigits('customer one hundred and five')).toBe('customer 105');
    expect(wordsToDigits('the last thirty days')).toBe('the last 30 days');
  });

  it('maps common questions to the seven tools with lower-case enum words', () => {
    expect(planToolCall('How many open high priority tickets are there?', [], metrics)).toEqual({
      name: 'get_support_tickets',
      args: { status: 'open', priority: 'high' },
    });
    expect(planToolCall('Tell me about ticket 7', [], metrics)).toEqual({ name: 'get_ticket_by_id', args: { ticket_id: 7 } });
    expect(planToolCall('Who is customer twelve?', [], metrics)).toEqual({ name: 'get_customer_by_id', args: { customer_id: 12 } });
    expect(planToolCall('How many inactive customers do we have?', [], metrics)).toEqual({ name: 'get_customers', args: { status: 'inactive' } });
    expect(planToolCall('Find customers named acme', [], metrics)).toEqual({ name: 'search_customers', args: { query: 'acme' } });
    expect(planToolCall('How are new sign ups trending over the last 30 days?', [], metrics)).toEqual({
      name: 'get_analytics_summary',
      args: { metric: 'new_signups', days: 30 },
    });
    expect(planToolCall('What is the average response time hours?', [], metrics)?.args).toEqual({ metric: 'avg_response_time_hours' });
    expect(planToolCall('Sing me a song', ['How many open tickets?'], metrics)).toBeNull();
  });

  it('resolves follow-ups against the conversation', () => {
    expect(planToolCall('What about closed ones?', ['How many open high priority tickets are there?'], metrics)).toEqual({
      name: 'get_support_tickets',
      args: { status: 'closed', priority: 'high' },
    });
    expect(planToolCall('And the inactive ones?', ['How many active customers?'], metrics)).toEqual({ name: 'get_customers', args: { status: 'inactive' } });
  });

  it('builds a grammar from dictionary words only', () => {
    const grammar = domainGrammar(['daily_active_users', 'zzq_metric'], (w) => w !== 'zzq');
    expect(grammar).toContain('<metric> = daily active users;');
    expect(grammar).not.toContain('zzq');
  });
});

describe('local providers without their programs', () => {
  it('says what to install when pocketsphinx is missing, and speaks nothing without espeak-ng', async () => {
    const stt = createLocalStt({ grammar: () => '', program: null });
    expect(stt.unavailableReason).toMatch(/pocketsphinx-en-us.*GROQ_API_KEY/);
    const wav = encodeWav({ sampleRate: 16000, samples: new Int16Array(1600) });
    await expect(stt.transcribe({ bytes: wav, format: 'WAV' }, {})).rejects.toMatchObject({ code: 'STT_UNAVAILABLE', retryable: false });
    const tts = createLocalTts({ program: null });
    expect(tts.available).toBe(false);
    expect(await tts.synthesize('hello', {})).toBeNull();
  });
});

describe('history repair', () => {
  it('drops tool calls that never got a result (an interrupted turn)', () => {
    const history = [
      new HumanMessage('q1'),
      new AIMessage({ content: '', tool_calls: [{ id: 'c1', name: 'get_customers', args: {} }] }),
      new ToolMessage({ content: '{}', tool_call_id: 'c1' }),
      new AIMessage('answer 1'),
      new HumanMessage('q2'),
      new AIMessage({ content: '', tool_calls: [{ id: 'c2', name: 'get_customers', args: {} }] }),
      new HumanMessage('q3'),
    ];
    const repaired = repairHistory(history);
    expect(repaired.map((m) => m.getType())).toEqual(['human', 'ai', 'tool', 'ai', 'human', 'human']);
  });
});
