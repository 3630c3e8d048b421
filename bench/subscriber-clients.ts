// The subscriber benchmark's clients, in a process of their own: N sockets speaking graphql-transport-ws with plain
// `ws` (connection_init, subscribe, then next messages), each holding Subscription.voiceEvents on one session. Every
// event of the measured turn is timed on arrival against its own `at`. Driven by subscribers.ts over IPC.
import WebSocket from 'ws';
import { openInBatches } from './open-in-batches';

export const SUBSCRIPTION = 'subscription Events($s: ID!) { voiceEvents(sessionId: $s) { __typename turnId seq at } }';

export type ClientCommand =
  | { type: 'open'; wsUrl: string; sessionId: string; replayTurnId: string; count: number; batch: number }
  | { type: 'arm' }
  | { type: 'measure'; turnId: string; timeoutMs: number }
  | { type: 'close' };

export type ClientReport =
  | { type: 'subscribed'; seconds: number }
  | { type: 'armed' }
  | { type: 'measured'; latencies: number[]; perClient: number[]; complete: boolean; cpuMicros: number; shape: TurnShape }
  | { type: 'failed'; message: string }
  | { type: 'closed' };

/** A turn's events as the first client saw them: type and offset from the turn's first event (the floor replays it). */
export type TurnShape = { typename: string; offsetMs: number }[];

interface Subscriber {
  socket: WebSocket;
  /** Arrival minus `at`, in ms, for each event after the replayed turn (recorded before the parent knows the new turn's id). */
  arrivals: { turnId: string; ms: number; typename: string; at: number }[];
  liveTurnDone: boolean;
}

const send = (report: ClientReport) => process.send?.(report);
const fail = (message: string) => {
  send({ type: 'failed', message });
  process.exit(1);
};

const subscribers: Subscriber[] = [];
let onLiveTurnsDone: (() => void) | null = null;
let liveTurnsDone = 0;
/** CPU time of this process when the measured turn was about to start. */
let cpuAtArm = process.cpuUsage();

function open(command: Extract<ClientCommand, { type: 'open' }>, index: number): Promise<void> {
  return new Promise((subscribed) => {
    const socket = new WebSocket(command.wsUrl, 'graphql-transport-ws');
    const me: Subscriber = { socket, arrivals: [], liveTurnDone: false };
    subscribers[index] = me;
    socket.on('open', () => socket.send('{"type":"connection_init"}'));
    socket.on('error', (error) => fail(`client ${index}: ${error.message}`));
    socket.on('message', (data) => {
      const arrived = Date.now();
      const message = JSON.parse(String(data)) as { type: string; payload?: { data?: { voiceEvents: { __typename: string; turnId: string; at: string } }; errors?: unknown } };
      switch (message.type) {
        case 'connection_ack':
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { s: command.sessionId } } }));
          return;
        case 'next': {
          const event = message.payload?.data?.voiceEvents;
          if (!event) return fail(`client ${index}: ${JSON.stringify(message.payload?.errors)}`);
          if (event.turnId === command.replayTurnId) {
            // The replay of the first turn: this subscription is live.
            if (event.__typename === 'TurnCompletedEvent') subscribed();
            return;
          }
          const at = Date.parse(event.at);
          me.arrivals.push({ turnId: event.turnId, ms: arrived - at, typename: event.__typename, at });
          if (event.__typename === 'TurnCompletedEvent' && !me.liveTurnDone) {
            me.liveTurnDone = true;
            if (++liveTurnsDone === subscribers.length) onLiveTurnsDone?.();
          }
          return;
        }
        case 'ping':
          socket.send('{"type":"pong"}');
          return;
        case 'error':
          return fail(`client ${index}: ${JSON.stringify(message.payload)}`);
        default:
          return;
      }
    });
  });
}

process.on('message', async (command: ClientCommand) => {
  if (command.type === 'open') {
    const seconds = await openInBatches(command.count, command.batch, (i) => open(command, i));
    send({ type: 'subscribed', seconds });
  } else if (command.type === 'arm') {
    cpuAtArm = process.cpuUsage();
    send({ type: 'armed' });
  } else if (command.type === 'measure') {
    const complete =
      liveTurnsDone === subscribers.length ||
      (await new Promise<boolean>((resolve) => {
        onLiveTurnsDone = () => resolve(true);
        setTimeout(() => resolve(false), command.timeoutMs).unref();
      }));
    const cpu = process.cpuUsage(cpuAtArm);
    const measured = subscribers.map((s) => s.arrivals.filter((a) => a.turnId === command.turnId));
    const firstSeen = measured[0] ?? [];
    const shape = firstSeen.map((a) => ({ typename: a.typename, offsetMs: a.at - firstSeen[0].at }));
    const latencies = measured.flatMap((m) => m.map((a) => a.ms));
    send({ type: 'measured', latencies, perClient: measured.map((m) => m.length), complete, cpuMicros: cpu.user + cpu.system, shape });
  } else if (command.type === 'close') {
    await Promise.all(
      subscribers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.socket.readyState === WebSocket.CLOSED) return resolve();
            s.socket.once('close', () => resolve());
            s.socket.close(1000);
          }),
      ),
    );
    send({ type: 'closed' });
    process.exit(0);
  }
});
