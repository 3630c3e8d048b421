// A minimal client of the graphql-transport-ws protocol (the one graphql-ws speaks, on /graphql): connection_init
// with connectionParams, connection_ack, subscribe, next, error, complete, ping/pong. Every operation of the page
// (queries, mutations and the event subscription) goes over one socket, authenticated once at connection_init.
// The socket opens on the first operation and again on the next one after it closed; a close the user must act on
// (4403: the token was refused) is reported with its code.

export const PROTOCOL = 'graphql-transport-ws';

/** Why the socket closed, in words: refused token, server going away, protocol errors. */
export function describeClose(code, reason) {
  switch (code) {
    case 4403:
      return { auth: true, message: 'The server refused the connection: it needs a valid access token.' };
    case 4401:
      return { auth: true, message: 'The server did not accept the connection (unauthorised).' };
    case 1013:
      return { retry: true, message: 'Authentication is unavailable for a moment; try again shortly.' };
    case 1001:
      return { retry: true, message: 'The server is restarting or shutting down; try again in a moment.' };
    case 1009:
      return { message: 'The recording is too large for the server; ask a shorter question.' };
    case 4408:
      return { retry: true, message: 'The connection timed out before it was set up; try again.' };
    case 4429:
    case 4400:
    case 4406:
    case 4409:
    case 4500:
      return { message: `The server closed the connection (${code}${reason ? `: ${reason}` : ''}).` };
    default:
      return { retry: true, message: `The connection to the server closed (${code}${reason ? `: ${reason}` : ''}); try again.` };
  }
}

export class SocketClosedError extends Error {
  constructor(code, reason) {
    const described = describeClose(code, reason);
    super(described.message);
    this.code = code;
    this.reason = reason;
    this.auth = !!described.auth;
    this.retry = !!described.retry;
  }
}

export class GraphQLSocket {
  /**
   * @param {{ url: string, connectionParams?: () => Record<string, unknown>, onClose?: (error: SocketClosedError) => void }} options
   */
  constructor({ url, connectionParams, onClose }) {
    this.url = url;
    this.connectionParams = connectionParams ?? (() => ({}));
    this.onClose = onClose;
    /** The current connection: { socket, ready: Promise, operations: Map<id, sink> }; null when none. */
    this.connection = null;
    this.nextId = 1;
  }

  /** The open (or opening) connection; its `ready` resolves at connection_ack, rejects with SocketClosedError. */
  connect() {
    if (this.connection) return this.connection;
    const socket = new WebSocket(this.url, PROTOCOL);
    const operations = new Map();
    const connection = { socket, operations, acked: false, ready: null };
    connection.ready = new Promise((resolve, reject) => {
      socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: this.connectionParams() }));
      socket.onmessage = (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          socket.close(4400, 'Invalid message');
          return;
        }
        if (message.type === 'connection_ack') {
          connection.acked = true;
          resolve();
        } else if (message.type === 'ping') {
          socket.send(JSON.stringify({ type: 'pong' }));
        } else {
          const sink = operations.get(message.id);
          if (!sink) return;
          if (message.type === 'next') sink.next(message.payload);
          else if (message.type === 'error') sink.error(message.payload);
          else if (message.type === 'complete') sink.complete();
        }
      };
      socket.onclose = (event) => {
        const error = new SocketClosedError(event.code, event.reason);
        if (this.connection === connection) this.connection = null;
        reject(error);
        for (const sink of [...operations.values()]) sink.error(error);
        operations.clear();
        if (event.code !== 1000) this.onClose?.(error);
      };
      // A failed connection also fires close (code 1006), which rejects.
      socket.onerror = () => {};
    });
    // Rejections are handled by each operation; this keeps an unobserved one from being reported.
    connection.ready.catch(() => {});
    this.connection = connection;
    return connection;
  }

  /**
   * Starts an operation; sink.next gets each ExecutionResult, sink.error a GraphQL error list or a SocketClosedError,
   * sink.complete the end. Returns a function that stops it.
   */
  subscribe(payload, sink) {
    const id = String(this.nextId++);
    const connection = this.connect();
    let done = false;
    const finish = () => {
      done = true;
      connection.operations.delete(id);
    };
    connection.operations.set(id, {
      next: (result) => !done && sink.next?.(result),
      error: (error) => {
        if (done) return;
        finish();
        sink.error?.(error);
      },
      complete: () => {
        if (done) return;
        finish();
        sink.complete?.();
      },
    });
    connection.ready.then(
      () => {
        if (!done) connection.socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
      },
      () => {},
    );
    return () => {
      if (done) return;
      finish();
      if (connection.acked && connection.socket.readyState === WebSocket.OPEN) connection.socket.send(JSON.stringify({ id, type: 'complete' }));
    };
  }

  /** A query or mutation: resolves with its ExecutionResult ({ data, errors }); rejects when the socket closes. */
  request(query, variables) {
    return new Promise((resolve, reject) => {
      let result = null;
      this.subscribe(
        { query, variables },
        {
          next: (value) => (result = value),
          error: (error) => (error instanceof Error ? reject(error) : resolve({ errors: error })),
          complete: () => resolve(result ?? { errors: [{ message: 'The server sent no result.' }] }),
        },
      );
    });
  }

  /** Closes the socket (the next operation opens a new one, with fresh connectionParams). */
  close() {
    const connection = this.connection;
    this.connection = null;
    connection?.socket.close(1000, 'Normal Closure');
  }
}
