// The kernel floor's clients (tcp-floor.ts), in a process of their own: N plain TCP sockets to the C sender, each
// timing every 128-byte frame on arrival against the send time written at its start. Driven over IPC.
import net from 'node:net';
import { openInBatches } from './open-in-batches';

export type TcpClientCommand = { type: 'open'; port: number; count: number; batch: number } | { type: 'arm' } | { type: 'measure'; events: number; timeoutMs: number };

export type TcpClientReport =
  | { type: 'connected'; seconds: number }
  | { type: 'armed' }
  | { type: 'measured'; latencies: number[]; complete: boolean; cpuMicros: number }
  | { type: 'failed'; message: string };

const FRAME = 128;
const send = (report: TcpClientReport) => process.send?.(report);
const sockets: net.Socket[] = [];
const latencies: number[] = [];
const received: number[] = [];
let expected = Number.POSITIVE_INFINITY;
let done = 0;
let onDone: (() => void) | null = null;
let cpuAtArm = process.cpuUsage();

function open(port: number, index: number): Promise<void> {
  return new Promise((connected) => {
    let pending: Buffer = Buffer.alloc(0);
    received[index] = 0;
    const socket = net.connect(port, '127.0.0.1', () => connected());
    socket.setNoDelay(true);
    socket.on('error', (error) => {
      send({ type: 'failed', message: `socket ${index}: ${error.message}` });
      process.exit(1);
    });
    socket.on('data', (chunk: Buffer) => {
      const arrived = performance.timeOrigin + performance.now();
      // Loopback delivers whole frames almost always; keep any partial one for the next chunk.
      const data = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      for (; at + FRAME <= data.length; at += FRAME) {
        latencies.push(arrived - Number.parseFloat(data.toString('latin1', at, at + 24)));
        if (++received[index] === expected && ++done === sockets.length) onDone?.();
      }
      pending = data.subarray(at);
    });
    sockets[index] = socket;
  });
}

process.on('message', async (command: TcpClientCommand) => {
  if (command.type === 'open') {
    const seconds = await openInBatches(command.count, command.batch, (i) => open(command.port, i));
    send({ type: 'connected', seconds });
  } else if (command.type === 'arm') {
    cpuAtArm = process.cpuUsage();
    send({ type: 'armed' });
  } else if (command.type === 'measure') {
    expected = command.events;
    done = received.filter((n) => n >= expected).length;
    const complete =
      done === sockets.length ||
      (await new Promise<boolean>((resolve) => {
        onDone = () => resolve(true);
        setTimeout(() => resolve(false), command.timeoutMs).unref();
      }));
    const cpu = process.cpuUsage(cpuAtArm);
    for (const socket of sockets) socket.destroy();
    // Exit once the report is out: a big one is still being written to the IPC channel when send() returns.
    process.send?.({ type: 'measured', latencies, complete, cpuMicros: cpu.user + cpu.system } satisfies TcpClientReport, () => process.exit(0));
  }
});
