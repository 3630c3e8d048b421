// The browser voice page (/voice): its modules in Node (WAV encoding, voice-activity detection, ordered playback),
// then the page itself in Chromium with a fake microphone against a real server on the local providers: a typed
// question, a spoken one in hands-free mode (espeak-ng speaks it, pocketsphinx hears it), barge-in by voice and by
// typing, cancel, a denied microphone and a server that needs a token. Truth comes from the seed files. Nothing
// outside 127.0.0.1 is requested (the launcher refuses and records it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../src/server/auth';
import { decodeWav, encodeWav } from '../src/voice/audio';
import { POCKETSPHINX_MODEL_DIR } from '../src/voice/providers/local/stt';
import { createLocalTts } from '../src/voice/providers/local/tts';
import type { TtsProvider } from '../src/voice/providers/types';
import { type TestBrowser, chromiumPresent, chromiumSkipNote, launchBrowser, screenshotPath } from './helpers/browser';
import { repoRoot } from './helpers/main';
import { espeak, pocketsphinx, speechToolsMissing } from './helpers/speech-tools';
import { generatedDataDir } from './helpers/server';
import { type Dataset, readDataset } from './helpers/truth';
import { type VoiceServer, startVoiceServer } from './helpers/voice';

const spokenNote = speechToolsMissing ? ` (skipped: ${speechToolsMissing})` : '';
/** Without a recogniser the server says so (speechToText null) and the page turns its microphone controls off. */
const sttMissing = !pocketsphinx || !existsSync(POCKETSPHINX_MODEL_DIR);

/** The page's plain ES modules, loaded as they are served (no build step), typed loosely. */
const pageModule = (name: string): Promise<any> => import(pathToFileURL(join(repoRoot, 'src', 'web', 'voice', name)).href);

const sine = (rate: number, seconds: number, hz: number, amplitude = 0.5) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));

describe('the page’s modules (in Node)', () => {
  it('encodes a recording as a 16 kHz mono 16-bit WAV that the server decodes to the same sound', async () => {
    const wav = await pageModule('wav.js');
    const recorded = sine(48_000, 1, 440);
    // Frames of 20 ms as the capture worklet posts them.
    const frames = Array.from({ length: 50 }, (_, i) => recorded.subarray(i * 960, (i + 1) * 960));
    const { base64, seconds, bytes } = wav.recordingToWavBase64(frames, 48_000);
    const file = Buffer.from(base64, 'base64');
    expect(file.length).toBe(bytes);
    expect(file.toString('ascii', 0, 4)).toBe('RIFF');
    expect(seconds).toBeCloseTo(1, 2);
    const pcm = decodeWav(file);
    expect(pcm.sampleRate).toBe(16_000);
    expect(pcm.samples.length).toBe(16_000);
    // Still a 440 Hz tone at the same level: count zero crossings and the peak over the middle of the recording.
    const middle = pcm.samples.subarray(1000, 15_000);
    let crossings = 0;
    for (let i = 1; i < middle.length; i++) if ((middle[i - 1] < 0) !== (middle[i] < 0)) crossings += 1;
    expect(crossings / 2 / (middle.length / 16_000)).toBeCloseTo(440, -1);
    expect(Math.max(...middle) / 32767).toBeCloseTo(0.5, 1);
    // Above the new Nyquist frequency a tone is filtered out rather than folded into the speech band.
    const hiss = wav.resampleTo(sine(48_000, 0.5, 11_000), 48_000, 16_000);
    const rms = Math.sqrt(hiss.subarray(100, -100).reduce((sum: number, v: number) => sum + v * v, 0) / (hiss.length - 200));
    expect(rms).toBeLessThan(0.05);
    // And the chunk decoder reads what the server's encoder writes.
    const back = new Uint8Array(wav.base64ToBytes(encodeWav({ sampleRate: 22_050, samples: new Int16Array([1, -2, 3]) }).toString('base64')));
    expect(Buffer.from(back).toString('ascii', 8, 12)).toBe('WAVE');
  });

  it('detects a question by its energy: an onset, the hangover that ends it, the pre-roll kept, a cough dropped', async () => {
    const { EnergyVad } = await pageModule('vad.js');
    const vad = new EnergyVad();
    const frame = (rms: number) => ({ samples: new Float32Array(320).fill(rms), rms });
    const feed = (rms: number, ms: number, strict = false) => {
      const events = [];
      for (let t = 0; t < ms; t += 20) {
        const f = frame(rms);
        const event = vad.push(f.samples, f.rms, 20, strict);
        if (event) events.push(event);
      }
      return events;
    };
    expect(feed(0.001, 1000)).toEqual([]); // room noise: learns the floor
    expect(feed(0.2, 60)).toEqual([]); // shorter than the onset
    const started = feed(0.2, 1500);
    expect(started.map((e) => e.type)).toEqual(['start']);
    expect(feed(0.001, 600)).toEqual([]); // a pause inside the question
    expect(feed(0.2, 500)).toEqual([]);
    const ended = feed(0.001, 800);
    expect(ended.map((e) => e.type)).toEqual(['end']);
    const seconds = ended[0].frames.length * 0.02;
    // 300 ms of pre-roll, 2.06 s of speech and pauses, the 800 ms hangover.
    expect(seconds).toBeGreaterThan(3.0);
    expect(seconds).toBeLessThan(3.8);
    expect(ended[0].speechMs).toBeGreaterThanOrEqual(2000);
    // A cough: past the onset but too short to be a question.
    expect(feed(0.2, 140).map((e) => e.type)).toEqual(['start']);
    expect(feed(0.001, 800).map((e) => e.type)).toEqual(['discard']);
    // While the answer plays, a louder and longer sound is needed to interrupt it.
    expect(feed(vad.threshold() * 1.5, 400, true)).toEqual([]);
    expect(feed(0.2, 400, true).map((e) => e.type)).toEqual(['start']);
  });

  it('plays chunks in index order, back to back, even when they decode out of order, and stops at once', async () => {
    const { ChunkPlayer } = await pageModule('player.js');
    const started: { index: number; when: number }[] = [];
    const sources: { stopped: boolean; onended: (() => void) | null }[] = [];
    let now = 0;
    const context = {
      state: 'running',
      get currentTime() {
        return now;
      },
      destination: {},
      // Later chunks decode faster: the player must still play them in order.
      decodeAudioData(bytes: ArrayBuffer, resolve: (b: unknown) => void) {
        const index = new Uint8Array(bytes)[0];
        setTimeout(() => resolve({ duration: 1 + index / 10, index }), 30 - index * 10);
      },
      createBufferSource() {
        const source = {
          buffer: null as { index: number } | null,
          stopped: false,
          onended: null as (() => void) | null,
          connect() {},
          disconnect() {},
          start(when: number) {
            started.push({ index: source.buffer!.index, when });
          },
          stop() {
            source.stopped = true;
          },
        };
        sources.push(source);
        return source;
      },
    };
    const player = new ChunkPlayer(context);
    player.begin('turn-1');
    for (const index of [0, 1, 2]) player.add('turn-1', index, Buffer.from([index]).toString('base64'));
    player.add('turn-0', 3, Buffer.from([3]).toString('base64')); // another turn's chunk: ignored
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(started.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(started[1].when).toBeCloseTo(started[0].when + 1, 6);
    expect(started[2].when).toBeCloseTo(started[1].when + 1.1, 6);
    expect(player.playing).toBe(true);
    now = 1.5;
    sources[0].onended?.();
    expect(player.played).toBe(1);
    expect(player.stop()).toBe(true);
    expect(sources.slice(1).every((s) => s.stopped)).toBe(true);
    expect(player.playing).toBe(false);
    expect(player.played).toBe(1);
  });
});

/**
 * The local text-to-speech (or a tone where espeak-ng is missing) that can be held after a given number of chunks, so
 * that a turn is still running while its first chunk plays, as with a remote synthesiser.
 */
function holdableTts() {
  const espeakTts = createLocalTts();
  const inner: TtsProvider = espeakTts.available
    ? espeakTts
    : {
        name: 'tone',
        maxChars: 200,
        synthesize: async () => {
          const samples = Int16Array.from(sine(16_000, 1.5, 330, 0.3), (v) => Math.round(v * 32767));
          return { wav: encodeWav({ sampleRate: 16_000, samples }), sampleRate: 16_000, mimeType: 'audio/wav' };
        },
      };
  let allowance = Number.POSITIVE_INFINITY;
  let gate: Promise<void> = Promise.resolve();
  let open = () => {};
  const tts: TtsProvider = {
    name: inner.name,
    maxChars: inner.maxChars,
    async synthesize(text, options) {
      if (allowance > 0) allowance -= 1;
      else {
        const { signal } = options;
        await Promise.race([gate, new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }))]);
      }
      return inner.synthesize(text, options);
    },
  };
  return {
    tts,
    /** The next `chunks` syntheses go through; later ones wait until release(). */
    holdAfter(chunks: number) {
      allowance = chunks;
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      allowance = Number.POSITIVE_INFINITY;
      open();
    },
  };
}

/**
 * The spoken question: lead-in, the words, then 2 s of silence so that hands-free mode's hangover ends it. Made from
 * `espeak-ng --stdout` as in voice-local.test.ts: the grammar-bound recogniser hears this synthetic voice on a knife's
 * edge (the same words written with `-w` in lower case are not recognised after any resampling to 16 kHz here).
 */
function questionWav(dir: string): string {
  const spoken = spawnSync(espeak!, ['-v', 'en-us', '--stdout', 'How many open tickets do we have?']);
  if (spoken.status !== 0) throw new Error(`espeak-ng failed: ${spoken.stderr}`);
  const pcm = decodeWav(spoken.stdout);
  const lead = Math.round(pcm.sampleRate * 0.3);
  const tail = pcm.sampleRate * 2;
  const samples = new Int16Array(lead + pcm.samples.length + tail);
  samples.set(pcm.samples, lead);
  const path = join(dir, 'question.wav');
  writeFileSync(path, encodeWav({ sampleRate: pcm.sampleRate, samples }));
  return path;
}

/** How long the fake microphone takes to say the question (lead-in and words), plus a margin. */
const QUESTION_MS = 3200;

describe.skipIf(!chromiumPresent)(`the voice page in Chromium${chromiumSkipNote}`, () => {
  let vs: VoiceServer;
  let data: Dataset;
  let dataDir: string;
  let browser: TestBrowser;
  let context: BrowserContext;
  let page: Page;
  const slow = holdableTts();
  const openTickets = () => data.tickets.filter((t) => t.status === 'open').length;

  const attr = (name: string) => page.locator('#app').getAttribute(name);
  const turns = () => page.locator('#log li.turn');
  /** The n-th turn asked on the page (1 = first; the log reads oldest first). */
  const turn = (n: number) => page.locator('#log li.turn').nth(n - 1);
  const typeQuestion = async (text: string) => {
    await page.getByLabel('Type a question').fill(text);
    await page.getByLabel('Type a question').press('Enter');
  };
  const waitFor = (predicate: () => Promise<boolean>, what: string, timeout = 30_000) =>
    expect.poll(predicate, { timeout, interval: 50, message: what }).toBe(true);
  const allPlayed = async () => {
    const chunks = Number((await turns().last().getAttribute('data-chunks')) ?? 0);
    return chunks > 0 && Number(await attr('data-chunks-played')) - playedBefore >= chunks;
  };
  let playedBefore = 0;
  let wavDir: string | undefined;

  beforeAll(async () => {
    const anchorDate = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    dataDir = await generatedDataDir({ customers: 30, tickets: 140, days: 45, seed: 11, anchorDate });
    data = readDataset(dataDir);
    vs = await startVoiceServer({ data: dataDir, extra: { tts: slow.tts } });
    wavDir = mkdtempSync(join(tmpdir(), 'udc-voice-page-'));
    const wav = espeak ? questionWav(wavDir) : undefined;
    // %noloop: the fake microphone says the question once per opening of the microphone, then silence.
    browser = await launchBrowser({ fakeAudioCapture: wav && `${wav}%noloop` });
    context = await browser.newContext();
    page = await context.newPage();
  });
  afterAll(async () => {
    slow.release();
    await browser?.close();
    await vs?.stop();
    if (wavDir) rmSync(wavDir, { recursive: true, force: true });
  });

  it('serves the page and its files itself, with a strict policy, and labels every control', async () => {
    const response = await page.goto(`${vs.server.baseUrl}/voice`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['permissions-policy']).toContain('microphone=(self)');

    await waitFor(async () => (await attr('data-state')) === 'ready', 'the page connects and reads the capabilities');
    expect(await page.getByRole('button', { name: 'Hold to talk' }).isDisabled()).toBe(sttMissing);
    expect(await page.getByRole('button', { name: 'Hands-free' }).isDisabled()).toBe(sttMissing);
    if (sttMissing) expect(await page.locator('#server-note').textContent()).toContain('This server cannot transcribe speech: type your questions.');
    await expect.poll(() => page.getByRole('button', { name: 'Hold to talk' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Hands-free' }).getAttribute('aria-pressed')).toBe('false');
    expect(await page.getByRole('button', { name: 'Cancel' }).isDisabled()).toBe(true);
    expect(await page.getByRole('textbox', { name: 'Type a question' }).isVisible()).toBe(true);
    expect(await page.getByRole('status').textContent()).toMatch(/Ready/);
    expect(await page.locator('#answer').getAttribute('aria-live')).toBe('polite');
    expect(await page.getByLabel('Access token').count()).toBe(1);

    const base = vs.server.baseUrl;
    const script = await fetch(`${base}/voice/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const again = await fetch(`${base}/voice/app.js`, { headers: { 'if-none-match': script.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${base}/voice/`, { redirect: 'manual' })).headers.get('location')).toBe('/voice');
    expect((await fetch(`${base}/voice/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/voice/nothing.js`)).status).toBe(404);
    expect((await fetch(`${base}/voice`, { method: 'POST' })).status).toBe(405);
  });

  it('answers a typed question: transcript, tool call and summary, the right number, timings, and every audio chunk played while later ones are still coming', async () => {
    slow.holdAfter(1);
    try {
      await typeQuestion('How many open tickets do we have?');
      await waitFor(async () => (await attr('data-playing')) === 'true', 'the first chunk plays');
      // Still running on the server (its second chunk is held), yet the first one is playing.
      expect(await turn(1).getAttribute('data-outcome')).toBe('running');
      expect(await page.getByRole('button', { name: 'Cancel' }).isEnabled()).toBe(true);
    } finally {
      slow.release();
    }
    await waitFor(async () => (await turn(1).getAttribute('data-outcome')) === 'completed', 'the turn completes');
    const open = openTickets();
    const first = turn(1);
    expect(await first.locator('.transcript').textContent()).toBe('How many open tickets do we have?');
    expect(await first.locator('.tools').textContent()).toContain('get_support_tickets(status: "open")');
    expect(await first.locator('.tools .summary').textContent()).toContain(`${open} open support ticket`);
    expect(await page.locator('#answer').textContent()).toContain(`${open} open support ticket`);
    expect(await first.locator('.timings').textContent()).toMatch(/heard \+\d+ ms · first tool \+\d+ ms · first sentence \+\d+ ms · first audio \+\d+ ms.*total \d+ ms/);
    await waitFor(allPlayed, 'every chunk of the answer is played');
    expect(Number(await first.getAttribute('data-chunks'))).toBeGreaterThanOrEqual(2);
    await waitFor(async () => (await attr('data-playing')) === 'false', 'playback ends');
  });

  describe.skipIf(!!speechToolsMissing)(`spoken questions${spokenNote}`, () => {
    it('hears a question in hands-free mode, ends it on silence, and speaks the right answer', async () => {
      playedBefore = Number(await attr('data-chunks-played'));
      await page.getByRole('button', { name: 'Hands-free' }).click();
      expect(await page.getByRole('button', { name: 'Hands-free' }).getAttribute('aria-pressed')).toBe('true');
      await waitFor(async () => (await turns().count()) === 2, 'the question is sent when the speaker stops', 20_000);
      await waitFor(async () => (await turn(2).getAttribute('data-outcome')) === 'completed', 'the spoken turn completes');
      expect(await turn(2).locator('.you').textContent()).toMatch(/^You: how many open tickets do we have \(spoken, \d\.\d s\)$/);
      expect(await page.locator('#answer').textContent()).toContain(`${openTickets()} open support ticket`);
      expect(await turn(2).locator('.timings').textContent()).toMatch(/server: speech-to-text \d+ ms/);
      await waitFor(allPlayed, 'every chunk of the spoken answer is played');
      // One question was heard; the silence after it started nothing.
      expect(await attr('data-heard')).toBe('1');
      await page.screenshot({ path: screenshotPath('voice-page.png'), fullPage: true });
      expect(await attr('data-microphone')).toBe('open');
      await page.getByRole('button', { name: 'Hands-free' }).click();
      expect(await page.getByRole('button', { name: 'Hands-free' }).getAttribute('aria-pressed')).toBe('false');
      // Off means off: the microphone is closed (the browser's recording indicator goes out).
      expect(await attr('data-microphone')).toBe('closed');
    });

    it('barge-in by voice: holding Space over the answer stops it at once, and the new spoken turn interrupts the running one', async () => {
      slow.holdAfter(1);
      try {
        await typeQuestion('How many tickets do we have?');
        await waitFor(async () => (await attr('data-playing')) === 'true', 'the first answer plays');
        const interrupted = turn(3);
        expect(await interrupted.getAttribute('data-outcome')).toBe('running');
        const interruptedId = (await interrupted.getAttribute('data-turn-id'))!;
        // Focus on no control: Space is push-to-talk there.
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        await page.keyboard.down('Space');
        expect(await attr('data-playing')).toBe('false');
        await waitFor(async () => (await attr('data-state')) === 'recording', 'the microphone records');
        await page.waitForTimeout(QUESTION_MS);
        await page.keyboard.up('Space');
        expect(await attr('data-microphone')).toBe('closed');
        await waitFor(async () => (await interrupted.getAttribute('data-code')) === 'INTERRUPTED', 'the first turn ends INTERRUPTED');
        expect(await interrupted.locator('.failure').textContent()).toBe('Interrupted by your next question.');
        slow.release();
        await waitFor(async () => (await turn(4).getAttribute('data-outcome')) === 'completed', 'the spoken turn completes');
        expect(await turn(4).locator('.transcript').textContent()).toBe('how many open tickets do we have');
        expect(await page.locator('#answer').textContent()).toContain(`${openTickets()} open support ticket`);
        const sessionId = (await attr('data-session'))!;
        const stored = await vs.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { id status errorCode inputKind } } }`, { id: sessionId });
        const turnsStored = stored.data.voiceSession.turns;
        expect(turnsStored.find((t: { id: string }) => t.id === interruptedId)).toMatchObject({ status: 'INTERRUPTED', errorCode: 'INTERRUPTED' });
        expect(turnsStored.at(-1)).toMatchObject({ status: 'COMPLETED', inputKind: 'AUDIO' });
        // Every turn of the page shares one session.
        expect(turnsStored).toHaveLength(4);
      } finally {
        slow.release();
      }
    });
  });

  it('barge-in by typing: a new question stops the answer at once and interrupts the running turn', async () => {
    const before = await turns().count();
    slow.holdAfter(1);
    try {
      await typeQuestion('How many customers do we have?');
      await waitFor(async () => (await attr('data-playing')) === 'true', 'the first answer plays');
      const interrupted = turn(before + 1);
      expect(await interrupted.getAttribute('data-outcome')).toBe('running');
      await page.getByLabel('Type a question').fill('How many closed tickets do we have?');
      await page.getByLabel('Type a question').press('Enter');
      expect(await attr('data-playing')).toBe('false');
      await waitFor(async () => (await interrupted.getAttribute('data-code')) === 'INTERRUPTED', 'the first turn ends INTERRUPTED');
      slow.release();
      await waitFor(async () => (await turn(before + 2).getAttribute('data-outcome')) === 'completed', 'the new turn completes');
      const closed = data.tickets.filter((t) => t.status === 'closed').length;
      expect(await page.locator('#answer').textContent()).toContain(`${closed} closed support ticket`);
      expect(await page.getByRole('alert').textContent()).toBe('');
    } finally {
      slow.release();
    }
  });

  it('cancels a running turn with the Cancel button (cancelVoiceTurn), stopping its audio', async () => {
    const before = await turns().count();
    slow.holdAfter(1);
    try {
      await typeQuestion('How many low priority tickets do we have?');
      await waitFor(async () => (await attr('data-playing')) === 'true', 'the answer plays');
      const cancelled = turn(before + 1);
      const turnId = (await cancelled.getAttribute('data-turn-id'))!;
      await page.getByRole('button', { name: 'Cancel' }).click();
      expect(await attr('data-playing')).toBe('false');
      await waitFor(async () => (await cancelled.getAttribute('data-code')) === 'CANCELLED', 'the turn ends CANCELLED');
      expect(await page.getByRole('status').textContent()).toMatch(/^Cancelled\./);
      expect(await page.getByRole('alert').textContent()).toBe('');
      const stored = await vs.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { id status errorCode } } }`, { id: (await attr('data-session'))! });
      expect(stored.data.voiceSession.turns.find((t: { id: string }) => t.id === turnId)).toMatchObject({ status: 'INTERRUPTED', errorCode: 'CANCELLED' });
      await waitFor(async () => (await page.getByRole('button', { name: 'Cancel' }).isDisabled()) === true, 'nothing left to cancel');

      // From the keyboard: Escape cancels too.
      slow.holdAfter(1);
      await typeQuestion('How many medium priority tickets do we have?');
      await waitFor(async () => (await attr('data-playing')) === 'true', 'the next answer plays');
      await page.keyboard.press('Escape');
      expect(await attr('data-playing')).toBe('false');
      await waitFor(async () => (await turn(before + 2).getAttribute('data-code')) === 'CANCELLED', 'Escape cancels the turn');
    } finally {
      slow.release();
    }
  });

  it('continues the conversation after a reload: same session, its turns read back', async () => {
    const sessionId = await attr('data-session');
    const stored = await vs.server.query(`query($id: ID!) { voiceSession(sessionId: $id) { turns { id } } }`, { id: sessionId });
    await page.reload();
    await waitFor(async () => (await attr('data-state')) === 'ready', 'the page reconnects');
    expect(await attr('data-session')).toBe(sessionId);
    await waitFor(async () => (await turns().count()) === stored.data.voiceSession.turns.length, 'the earlier turns are shown');
    expect(await turns().evaluateAll((items) => items.map((li) => li.getAttribute('data-turn-id')))).toEqual(stored.data.voiceSession.turns.map((t: { id: string }) => t.id));
    expect(await turn(1).locator('.assistant').textContent()).toContain(`${openTickets()} open support ticket`);
  });

  it.skipIf(sttMissing)(`says so when the microphone is denied, and typing still works${sttMissing ? ' (skipped: no pocketsphinx, so no microphone controls)' : ''}`, async () => {
    const denied = await context.newPage();
    try {
      const origin = vs.server.baseUrl;
      // The launcher's fake-UI flag accepts every permission prompt (a denial set through CDP is overridden), so the
      // denial is the browser's own answer to a blocked site, made here: a NotAllowedError "Permission denied".
      await denied.addInitScript(() => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      });
      await denied.goto(`${origin}/voice`);
      await expect.poll(() => denied.locator('#app').getAttribute('data-state'), { timeout: 30_000 }).toBe('ready');
      await denied.getByRole('button', { name: 'Hands-free' }).click();
      await expect.poll(() => denied.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/Microphone access was denied\. Allow the microphone for this site/);
      expect(await denied.getByRole('button', { name: 'Hands-free' }).getAttribute('aria-pressed')).toBe('false');
      expect(await denied.locator('#app').getAttribute('data-microphone')).toBe('denied');
      // Holding the talk button says the same; a typed question is still answered.
      await denied.evaluate(() => (document.getElementById('error')!.textContent = ''));
      await denied.getByRole('button', { name: 'Hold to talk' }).hover();
      await denied.mouse.down();
      await expect.poll(() => denied.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/Microphone access was denied/);
      await denied.mouse.up();
      await denied.getByLabel('Type a question').fill('How many open tickets do we have?');
      await denied.getByLabel('Type a question').press('Enter');
      await expect.poll(() => denied.locator('#log li.turn').first().getAttribute('data-outcome'), { timeout: 30_000 }).toBe('completed');
      expect(await denied.locator('#answer').textContent()).toContain(`${openTickets()} open support ticket`);
      expect(await denied.getByRole('alert').textContent()).toBe('');
    } finally {
      await denied.close();
    }
  });

  it('asks for a token when the server needs one, refuses a bad one clearly, and works with a good one', async () => {
    const secret = 'voice-page-test-secret-of-enough-length';
    const secured = await startVoiceServer({ data: dataDir, server: { auth: createAuthenticator({ secret, defaultTenant: 'default' }) } });
    const tokenPage = await context.newPage();
    try {
      await tokenPage.goto(`${secured.server.baseUrl}/voice`);
      await expect.poll(() => tokenPage.getByRole('alert').textContent(), { timeout: 30_000 }).toMatch(/This server needs an access token\. Paste one under “Access token”/);
      expect(await tokenPage.locator('#settings').getAttribute('open')).not.toBeNull();
      await tokenPage.getByLabel('Access token').fill('Bearer not.a.token');
      await tokenPage.getByRole('button', { name: 'Save token' }).click();
      await expect.poll(() => tokenPage.getByRole('alert').textContent(), { timeout: 30_000 }).toMatch(/The server refused your access token: it is invalid or has expired/);
      const token = await new SignJWT({ tenant: 'default', roles: ['viewer', 'voice'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('page').setExpirationTime('1h').sign(new TextEncoder().encode(secret));
      await tokenPage.getByLabel('Access token').fill(token);
      await tokenPage.getByRole('button', { name: 'Save token' }).click();
      await expect.poll(() => tokenPage.locator('#app').getAttribute('data-state'), { timeout: 30_000 }).toBe('ready');
      expect(await tokenPage.getByRole('alert').textContent()).toBe('');
      // Kept for this tab only unless "Remember on this device" is ticked.
      expect(await tokenPage.evaluate(() => [sessionStorage.getItem('udc-voice-token'), localStorage.getItem('udc-voice-token')])).toEqual([token, null]);
      await tokenPage.getByLabel('Type a question').fill('How many open tickets do we have?');
      await tokenPage.getByLabel('Type a question').press('Enter');
      await expect.poll(() => tokenPage.locator('#log li.turn').first().getAttribute('data-outcome'), { timeout: 30_000 }).toBe('completed');
      expect(await tokenPage.locator('#answer').textContent()).toContain(`${openTickets()} open support ticket`);
    } finally {
      await tokenPage.close();
      await secured.stop();
    }
  });

  it('asked nothing of any other machine', () => {
    expect(browser.blocked).toEqual([]);
  });
});
