// graphql-ws on the HTTP server's port and path: graphql-ws's protocol core (makeServer) over `ws`, running every
// operation through yoga's envelop (same schema, plugins, context and validation as HTTP). The socket glue is ours
// rather than graphql-ws/use/ws so that a send costs no promise and no write callback unless the socket is backed up.
// Clean results of shared subscriptions (shared-subscriptions.ts) are written here directly: the payload of such a result
// is serialised once for every subscriber holding it, and each frame is that text behind the subscriber's own id.
import type { IncomingMessage, Server } from 'node:http';
import type { ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { CloseCode, type ConnectionInitMessage, DEPRECATED_GRAPHQL_WS_PROTOCOL, type ServerOptions, handleProtocols, makeServer } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import { AuthUnavailableError, AuthenticationError } from './auth';
import { deliverDirectly, delivered } from './shared-subscriptions';
import type { GraphQLContext, Identity } from '../schema/context';
import type { Logger } from '../logger';
import type { WebSocketMetrics } from './metrics';

export interface GraphQLWebSocketOptions {
  server: Server;
  path: string;
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  /**
   * Proves who opened the socket from `connectionParams.authorization` (once, at connection_init) and remembers it for
   * the upgrade request, where yoga's context factory finds it; throws AuthenticationError.
   */
  authenticate: (request: IncomingMessage, authorization: string | undefined) => Promise<Identity>;
  log: Logger;
  /** Ping every this many ms and drop a socket that has not answered by the next ping (graphql-ws's default 12 s). */
  /** False while the server drains for a stop: a new socket is closed at once (1001) so the client reconnects elsewhere. */
  accepting?: () => boolean;
  keepAliveMs?: number;
  /** Largest message a client may send (ws closes the socket with 1009 as soon as a frame says it is larger). */
  maxPayloadBytes?: number;
  /** Gauges of open sockets and active subscriptions (metrics.ts). */
  metrics?: WebSocketMetrics;
}

export interface GraphQLWebSocket {
  /** Closes every socket ("Going away") and the WebSocket server. */
  dispose(): Promise<void>;
}

/** Above this many bytes queued on a socket, its sender (graphql-ws, or a direct delivery) waits for the write to finish. */
const BACKPRESSURE_BYTES = 64 * 1024;

/**
 * Sends a frame now, or, when the socket is backed up, with a promise of its write that the sender waits for before it
 * sends that socket more (its events stay in the log instead of piling up in memory).
 */
function sendOn(socket: WebSocket, data: string): void | Promise<void> {
  if (socket.readyState !== socket.OPEN) return;
  // The usual case: queue the frame and go on; write errors surface as the socket's 'error' event.
  if (socket.bufferedAmount < BACKPRESSURE_BYTES) return socket.send(data);
  return new Promise<void>((resolve, reject) => socket.send(data, (error) => (error ? reject(error) : resolve())));
}

/**
 * The JSON of results recently sent directly, by result object: a shared result is serialised once for all its
 * subscribers. Bounded in entries and characters, so that it holds the events being fanned out, not the whole log (a late
 * subscriber replaying old events serialises them again).
 */
function createPayloadCache(maxEntries = 1024, maxChars = 8 * 2 ** 20): (result: ExecutionResult) => string {
  const cache = new Map<ExecutionResult, string>();
  let chars = 0;
  return (result) => {
    let json = cache.get(result);
    if (json !== undefined) return json;
    // graphql-ws sends a result without errors as its own fields: the same JSON (JSON.stringify leaves out undefined).
    json = JSON.stringify(result);
    cache.set(result, json);
    chars += json.length;
    while (cache.size > maxEntries || chars > maxChars) {
      const [oldest, text] = cache.entries().next().value as [ExecutionResult, string];
      cache.delete(oldest);
      chars -= text.length;
    }
    return json;
  };
}

interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
  /** Closes the socket when its token expires. */
  expiry?: NodeJS.Timeout;
  /** Ids of this socket's operations counted in the active-subscriptions gauge. */
  streaming: Set<string>;
}

/** graphql-ws's close code for a refused connection_init; also used when the socket's token expires. */
const FORBIDDEN_CLOSE = CloseCode.Forbidden;
/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The enveloped execute/subscribe of one operation travel in rootValue from onSubscribe to the execute/subscribe hooks. */
interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => OperationResult;
  subscribe: (args: ExecutionArgs) => OperationResult;
}
type OperationResult = ReturnType<NonNullable<ServerOptions['execute']>>;

export function createGraphQLWebSocket({ server, path, yoga, authenticate, log, keepAliveMs = 12_000, maxPayloadBytes, accepting, metrics }: GraphQLWebSocketOptions): GraphQLWebSocket {
  /** Leaves the gauge once per operation, whichever comes first: its completion or its socket's close. */
  const streamEnded = (extra: SocketExtra, id: string) => {
    if (extra.streaming.delete(id)) metrics?.subscriptionEnded();
  };
  const wsServer = new WebSocketServer({ server, path, handleProtocols, ...(maxPayloadBytes && { maxPayload: maxPayloadBytes }) });
  const payloadJson = createPayloadCache();

  const closeAtExpiry = (extra: SocketExtra, expiresAt: number) => {
    const wait = expiresAt - Date.now();
    extra.expiry = setTimeout(() => {
      if (Date.now() < expiresAt) return closeAtExpiry(extra, expiresAt);
      log.info('graphql-ws: token expired; closing the socket');
      extra.socket.close(FORBIDDEN_CLOSE, 'Token expired');
    }, Math.min(Math.max(wait, 0), MAX_TIMER_MS));
    extra.expiry.unref();
  };

  const protocol = makeServer<ConnectionInitMessage['payload'], SocketExtra>({
    // Returning false makes graphql-ws close the socket with 4403 Forbidden.
    onConnect: async (ctx) => {
      const authorization = ctx.connectionParams?.authorization;
      try {
        const identity = await authenticate(ctx.extra.request, typeof authorization === 'string' ? authorization : undefined);
        if (identity.expiresAt !== null) closeAtExpiry(ctx.extra, identity.expiresAt);
        return true;
      } catch (error) {
        if (error instanceof AuthUnavailableError) {
          log.error('graphql-ws: connection refused: authentication unavailable', { reason: error.reason });
          ctx.extra.socket.close(1013, 'Try again later');
          return false;
        }
        if (!(error instanceof AuthenticationError)) throw error;
        log.warn('graphql-ws: connection refused: not authenticated', { reason: error.reason });
        return false;
      }
    },
    execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
    subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
    onSubscribe: async (ctx, id, params) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params,
      });
      let document;
      try {
        document = parse(params.query);
      } catch (error) {
        return [error as GraphQLError];
      }
      const args: ExecutionArgs = {
        schema,
        operationName: params.operationName,
        document,
        variableValues: params.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe } as EnvelopedRoot,
      };
      // The context's request id (and its logger's) comes from the upgrade request's x-request-id (app.ts contextFor).
      const errors = validate(args.schema, args.document);
      if (errors.length) return errors;
      // A `next` frame exactly as graphql-ws writes one (no spaces; id, type, payload), with the payload's JSON shared.
      const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      deliverDirectly(args.contextValue as object, (result) => {
        // Completed by the client, or the socket closed: graphql-ws returns the stream next, nothing more goes out.
        if (!(id in ctx.subscriptions)) return;
        return sendOn(ctx.extra.socket, head + payloadJson(result) + '}');
      });
      return args;
    },
    onNext: (_ctx, _id, _payload, args, result) => {
      // See shared-subscriptions.ts: whether the per-result hooks passed a clean result through unchanged.
      delivered(args.contextValue, result);
      return undefined;
    },
    onOperation: (ctx, id, _payload, _args, result) => {
      if (metrics && typeof result === 'object' && result !== null && Symbol.asyncIterator in result) {
        ctx.extra.streaming.add(id);
        metrics.subscriptionStarted();
      }
      return undefined;
    },
    onComplete: (ctx, id) => streamEnded(ctx.extra, id),
  });

  const closeOnError = (socket: WebSocket, what: string, error: unknown) => {
    log.error(`graphql-ws: ${what}`, { error: (error as Error)?.message ?? String(error) });
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  };

  wsServer.on('error', (error) => log.error('graphql-ws: WebSocket server error', { error: error.message }));
  wsServer.on('connection', (socket, request) => {
    socket.once('error', (error) => closeOnError(socket, 'socket error', error));
    if (accepting && !accepting()) {
      socket.close(1001, 'Server shutting down');
      return;
    }

    let pongWait: NodeJS.Timeout | null = null;
    const ping =
      keepAliveMs > 0
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAliveMs)
        : null;

    const extra: SocketExtra = { socket, request, streaming: new Set() };
    metrics?.socketOpened();
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) => sendOn(socket, data),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => closeOnError(socket, 'message handling failed', error));
          }),
      },
      extra,
    );

    socket.once('close', (code, reason) => {
      metrics?.socketClosed();
      for (const id of [...extra.streaming]) streamEnded(extra, id);
      if (extra.expiry) clearTimeout(extra.expiry);
      if (pongWait) clearTimeout(pongWait);
      if (ping) clearInterval(ping);
      if (code === CloseCode.SubprotocolNotAcceptable && socket.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL) {
        log.warn('graphql-ws: a client used the deprecated subscriptions-transport-ws protocol; use graphql-transport-ws');
      }
      closed(code, String(reason)).catch((error: unknown) => log.error('graphql-ws: close handling failed', { error: (error as Error).message }));
    });
  });

  return {
    async dispose() {
      for (const client of wsServer.clients) client.close(1001, 'Going away');
      wsServer.removeAllListeners();
      await new Promise<void>((resolve, reject) => wsServer.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
