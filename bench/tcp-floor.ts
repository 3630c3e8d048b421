// The subscriber benchmark's kernel floor: the measured turn's events, at the same offsets, sent by a C program
// (tcp-floor.c, compiled here with the machine's C compiler) as one write() of a 128-byte frame per socket per event to
// N loopback TCP connections, timed on arrival by plain Node sockets (tcp-floor-clients.ts). No WebSocket, no GraphQL and
// no JavaScript on the sending side: what one message per subscriber costs this machine's kernel and cores. Skipped,
// saying why, where no C compiler is installed.
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type LatencyStats, summarize } from './stats';
import type { TcpClientCommand, TcpClientReport } from './tcp-floor-clients';

export interface TcpFloorResult {
  subscribers: number;
  connectSeconds: number;
  events: number;
  deliveries: number;
  missing: number;
  delivery: LatencyStats;
  /** The C sender's CPU time (user + system: the kernel's TCP work is most of it) per delivered frame. */
  senderCpuMicrosPerDelivery: number;
  clientCpuMicrosPerDelivery: number;
  /** The longest time one event's send loop (one write per socket) took. */
  longestSendLoopMs: number;
}

const BINARY = '.data/bench/tcp-floor';

function compile(): string | null {
  mkdirSync('.data/bench', { recursive: true });
  const cc = spawnSync('cc', ['-O2', '-o', BINARY, 'bench/tcp-floor.c'], { encoding: 'utf8' });
  if (cc.error) return `no C compiler (cc: ${cc.error.message})`;
  if (cc.status !== 0) return `cc failed: ${cc.stderr.trim().split('\n')[0]}`;
  return null;
}

function ask(child: ChildProcess, command: TcpClientCommand, answer: TcpClientReport['type']): Promise<TcpClientReport> {
  return new Promise((resolve, reject) => {
    const onMessage = (report: TcpClientReport) => {
      if (report.type !== answer && report.type !== 'failed') return;
      child.off('message', onMessage);
      if (report.type === 'failed') reject(new Error(`tcp floor clients: ${report.message}`));
      else resolve(report);
    };
    child.on('message', onMessage);
    child.send(command);
  });
}

export async function measureTcpFloor(count: number, offsetsMs: number[], log: (line: string) => void): Promise<TcpFloorResult | { skipped: string }> {
  const why = compile();
  if (why) {
    log(`tcp floor: skipped: ${why}`);
    return { skipped: why };
  }
  const sender = spawn(BINARY, [String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: sender.stdout! })[Symbol.asyncIterator]();
  const clients = fork('bench/tcp-floor-clients.ts', [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ready = (await lines.next()).value as string | undefined;
    const port = Number(ready?.match(/^READY (\d+)/)?.[1]);
    if (!port) throw new Error(`tcp floor sender: ${ready ?? 'exited'}`);
    const connected = (await ask(clients, { type: 'open', port, count, batch: 200 }, 'connected')) as Extract<TcpClientReport, { type: 'connected' }>;
    await new Promise((resolve) => setTimeout(resolve, 500)); // the sender accepts the last connections
    await ask(clients, { type: 'arm' }, 'armed');
    sender.stdin!.write(`turn ${offsetsMs.map((o) => o.toFixed(1)).join(' ')}\n`);
    const measured = (await ask(clients, { type: 'measure', events: offsetsMs.length, timeoutMs: 60_000 }, 'measured')) as Extract<TcpClientReport, { type: 'measured' }>;
    const sent = ((await lines.next()).value as string | undefined)?.match(/^SENT (\S+) (.*)$/);
    if (!sent) throw new Error('tcp floor sender: no SENT line');
    const deliveries = measured.latencies.length;
    const result: TcpFloorResult = {
      subscribers: count,
      connectSeconds: connected.seconds,
      events: offsetsMs.length,
      deliveries,
      missing: count * offsetsMs.length - deliveries,
      delivery: summarize(measured.latencies),
      senderCpuMicrosPerDelivery: Number(sent[1]) / Math.max(1, deliveries),
      clientCpuMicrosPerDelivery: measured.cpuMicros / Math.max(1, deliveries),
      longestSendLoopMs: Math.max(...sent[2].split(' ').map(Number)),
    };
    log(`tcp floor: subscribers ${count}: delivery p50 ${result.delivery.p50.toFixed(1)} ms p99 ${result.delivery.p99.toFixed(1)} ms, longest send loop ${result.longestSendLoopMs.toFixed(1)} ms`);
    return result;
  } finally {
    sender.stdin!.end();
    sender.kill();
    clients.kill();
  }
}
