// `npm run voice` against a real server: the CLI sends a question, prints the stream, and writes one playable WAV.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../src/voice/audio';
import { findProgram } from '../src/voice/providers/local/exec';
import { generatedDataDir } from './helpers/server';
import { type Dataset, readDataset } from './helpers/truth';
import { type VoiceServer, startVoiceServer } from './helpers/voice';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, ['src/voice/cli.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let vs: VoiceServer;
let data: Dataset;
beforeAll(async () => {
  const dir = await generatedDataDir({ customers: 20, tickets: 90, days: 20, seed: 3, anchorDate: '2026-11-24' });
  data = readDataset(dir);
  vs = await startVoiceServer({ data: dir });
});
afterAll(() => vs?.stop());

describe('npm run voice', () => {
  it('answers a typed question with the right number and writes the answer as one WAV', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'udc-cli-')), 'answer.wav');
    const result = await runCli(['--url', vs.server.url, '--text', 'How many open tickets do we have?', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const open = data.tickets.filter((t) => t.status === 'open').length;
    expect(result.stdout).toContain('tool call: get_support_tickets {"status":"open"}');
    expect(result.stdout).toContain(`assistant: I found ${open} open support ticket`);
    expect(result.stdout).toMatch(/timings: +stt - ms, agent \d+ ms/);
    if (findProgram('espeak-ng')) {
      const wav = decodeWav(readFileSync(out));
      expect(wav.samples.length).toBeGreaterThan(wav.sampleRate / 2);
    } else {
      expect(existsSync(out)).toBe(false);
    }
  });

  it('explains its usage and unreachable servers', async () => {
    const neither = await runCli(['--url', vs.server.url]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/exactly one of --in or --text/);
    const down = await runCli(['--url', 'http://127.0.0.1:9/graphql', '--text', 'hi']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach .*npm start/);
  });
});
