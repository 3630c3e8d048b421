// The subscriber benchmark's floor: a bare `ws` server with no GraphQL, no event log and no graphql-ws, that speaks
// just enough graphql-transport-ws for subscriber-clients.ts (ack, then `next` messages shaped like voiceEvents) and
// sends a turn's events at given offsets to every socket. What the same fan-out costs with nothing but the sockets.
// Prints "READY <url>" on stdout; answers "stats" and {type: 'turn'} over IPC. Used by subscribers.ts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface FloorTurn {
  type: 'turn';
  turnId: string;
  sessionId: string;
  /** Each event's __typename and its offset in ms from the turn's start (taken from a real turn). */
  events: { typename: string; offsetMs: number }[];
}

const subscriptions: { socket: WebSocket; id: string }[] = [];
/** The turns so far, as sent: a subscriber gets them all (the replay) before the live ones. */
const sent: { typename: string; turnId: string; seq: number; at: string }[] = [];

const frame = (id: string, e: (typeof sent)[number]) =>
  `{"id":${JSON.stringify(id)},"type":"next","payload":{"data":{"voiceEvents":{"__typename":"${e.typename}","turnId":"${e.turnId}","seq":${e.seq},"at":"${e.at}"}}}}`;

const server = createServer((_req, res) => res.writeHead(404).end());
const wsServer = new WebSocketServer({ server, path: '/graphql' });
wsServer.on('connection', (socket) => {
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; id?: string };
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (message.type === 'subscribe' && message.id) {
      for (const e of sent) socket.send(frame(message.id, e));
      subscriptions.push({ socket, id: message.id });
    }
  });
});

function runTurn(turn: FloorTurn) {
  const started = Date.now();
  turn.events.forEach(({ typename, offsetMs }, i) => {
    setTimeout(() => {
      const event = { typename, turnId: turn.turnId, seq: i + 1, at: new Date().toISOString() };
      sent.push(event);
      for (const { socket, id } of subscriptions) if (socket.readyState === WebSocket.OPEN) socket.send(frame(id, event));
    }, Math.max(0, started + offsetMs - Date.now()));
  });
}

process.on('message', (message: 'stats' | FloorTurn) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage();
    process.send?.({ cache: null, rss: process.memoryUsage().rss, cpuMicros: cpu.user + cpu.system });
  } else if (message.type === 'turn') runTurn(message);
});
process.on('SIGTERM', () => {
  for (const client of wsServer.clients) client.terminate();
  server.close(() => process.exit(0));
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql\n`);
});
