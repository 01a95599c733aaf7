// The three WebSocket streams (/ws/monitoring, /ws/alerts, /ws/deployment) as callbacks with an
// unsubscribe function. Input: a ws:// URL, an optional first command, callbacks. Output: parsed
// JSON messages to onMessage; the reference's error frames as typed ECPErrors to onError.
// Reconnects with capped, jittered exponential backoff after abnormal closes; never after a
// normal close (1000), an error the client caused (4400, 4404, 4422, 4401, 4403) or
// unsubscribe(). The browser's WebSocket needs nothing; Node uses its global WebSocket when it
// has one (Node 22), otherwise the optional `ws` package.

import { ECPError, errorFromResponse, statusFromCloseCode } from './errors.js';

const CLOSE_NORMAL = 1000;
// Server-side conditions that pass: overloaded (1013), restarting (1012), unavailable (4503),
// rate-limited (4429). Everything else in 4000-4999 is the client's own error.
const RETRYABLE_CLOSES = new Set([1001, 1006, 1011, 1012, 1013, 4429, 4500, 4502, 4503]);

// A connection that delivered a message or stayed up this long was healthy: the next drop
// starts the backoff afresh. One that drops right after opening keeps backing off.
const HEALTHY_AFTER_MS = 10_000;

const IS_NODE = typeof process !== 'undefined' && Boolean(process.versions?.node);

let wsPackage;

/** The WebSocket constructor to use and how it takes headers: 'ws', 'node-global' or 'browser'. */
export async function resolveWebSocket(explicit) {
  if (explicit) return { Impl: explicit, kind: kindOf(explicit) };
  if (typeof globalThis.WebSocket === 'function') {
    return { Impl: globalThis.WebSocket, kind: IS_NODE ? 'node-global' : 'browser' };
  }
  if (!IS_NODE) throw new ECPError('this environment has no WebSocket', { code: 'NO_WEBSOCKET' });
  if (!wsPackage) {
    try {
      // A variable specifier keeps bundlers and browsers from resolving the Node-only package.
      const name = 'ws';
      wsPackage = (await import(name)).default;
    } catch (cause) {
      throw new ECPError(
        "Node without a global WebSocket needs the 'ws' package: npm install ws",
        { code: 'NO_WEBSOCKET', cause },
      );
    }
  }
  return { Impl: wsPackage, kind: 'ws' };
}

function kindOf(Impl) {
  if ('WebSocketServer' in Impl || 'Server' in Impl) return 'ws';
  return IS_NODE ? 'node-global' : 'browser';
}

/** Opens one socket; the token travels as a header where the runtime allows it. */
export function openSocket({ Impl, kind }, url, { token, wsAuth, headers }) {
  const auth = wsAuth ?? (kind === 'browser' ? 'query' : 'header');
  const target = new URL(url);
  let protocols;
  const allHeaders = { ...(headers ?? {}) };
  if (token && auth === 'query') target.searchParams.set('access_token', token);
  if (token && auth === 'protocol') protocols = ['bearer', token];
  if (token && auth === 'header') allHeaders.Authorization = `Bearer ${token}`;
  const hasHeaders = Object.keys(allHeaders).length > 0;
  if (kind === 'ws') return new Impl(target.href, protocols, { headers: allHeaders });
  if (kind === 'node-global' && hasHeaders) {
    // undici's WebSocket (Node's global one) takes a WebSocketInit with headers.
    return new Impl(target.href, { protocols, headers: allHeaders });
  }
  if (hasHeaders && auth === 'header' && token) {
    throw new ECPError("browsers cannot set WebSocket headers: use wsAuth 'query' or 'protocol'", {
      code: 'BAD_REQUEST',
    });
  }
  return new Impl(target.href, protocols);
}

function decode(data) {
  if (typeof data === 'string') return data;
  return new TextDecoder().decode(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}

export class Stream {
  constructor(socketFactory, { command, onMessage, onError, onOpen, onClose, signal, reconnect }) {
    this.socketFactory = socketFactory;
    this.command = command;
    this.onMessage = onMessage;
    this.onError = onError ?? ((error) => console.error(String(error)));
    this.onOpen = onOpen;
    this.onClose = onClose;
    const policy = reconnect === false ? { maxRetries: 0 } : { ...(reconnect ?? {}) };
    this.maxRetries = policy.maxRetries ?? Infinity;
    this.initialDelay = policy.initialDelayMs ?? 500;
    this.maxDelay = policy.maxDelayMs ?? 30_000;
    this.retries = 0;
    this.stopped = false;
    this.socket = undefined;
    this.timer = undefined;
    this.unsubscribe = this.unsubscribe.bind(this);
    if (signal) {
      if (signal.aborted) this.stopped = true;
      else signal.addEventListener('abort', this.unsubscribe, { once: true });
    }
    this.signal = signal;
    if (!this.stopped) this.#connect();
  }

  /** Stops the stream for good: no more callbacks, no reconnect. */
  unsubscribe() {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.unsubscribe);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      // A socket still connecting errors on close(); once stopped nothing listens any more.
      socket.onerror = () => {};
      try {
        socket.close(CLOSE_NORMAL);
      } catch {
        // already closed
      }
    }
  }

  async #connect() {
    let socket;
    try {
      socket = await this.socketFactory();
    } catch (error) {
      this.#end({ code: 0, reason: '', error });
      return;
    }
    if (this.stopped) {
      socket.onerror = () => {};
      socket.close(CLOSE_NORMAL);
      return;
    }
    this.socket = socket;
    let errorBody;
    let openedAt;
    let delivered = false;
    socket.onopen = () => {
      openedAt = Date.now();
      if (this.command) socket.send(JSON.stringify(this.command));
      this.onOpen?.();
    };
    socket.onmessage = (event) => {
      if (this.stopped) return;
      let message;
      try {
        message = JSON.parse(decode(event.data));
      } catch {
        return; // the server only sends JSON; anything else is not ours to interpret
      }
      if (message && typeof message === 'object' && message.error) {
        errorBody = message;
        return;
      }
      delivered = true;
      this.onMessage(message);
    };
    let refusedStatus;
    socket.onerror = (event) => {
      // A close event always follows and decides what happens. The `ws` package says why a
      // handshake was refused; browsers never do.
      const match = /Unexpected server response: (\d{3})/.exec(event?.message ?? '');
      if (match && openedAt === undefined) refusedStatus = Number(match[1]);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stopped) return;
      if (delivered || (openedAt !== undefined && Date.now() - openedAt >= HEALTHY_AFTER_MS)) {
        this.retries = 0;
      }
      // A refused handshake (401, 403, 404) stands for the same close code the server uses for
      // the error once connected: 4000 + status. Retrying it would repeat it.
      const code = refusedStatus ? 4000 + refusedStatus : event.code;
      this.#closed(code, event.reason ?? '', errorBody);
    };
  }

  #closed(code, reason, errorBody) {
    let error;
    if (errorBody || (code >= 4000 && code < 5000)) {
      const status = statusFromCloseCode(code);
      const body = errorBody ?? { error: { code: reason || `HTTP_${status}`, message: reason } };
      error = errorFromResponse(status, body, undefined);
    }
    const retry = code !== CLOSE_NORMAL && RETRYABLE_CLOSES.has(code);
    if (retry && this.retries < this.maxRetries) {
      if (error) this.onError(error);
      const base = Math.min(this.maxDelay, this.initialDelay * 2 ** this.retries);
      this.retries += 1;
      this.timer = setTimeout(() => this.#connect(), base * (0.5 + Math.random() / 2));
      return;
    }
    if (!error && code !== CLOSE_NORMAL) {
      error = new ECPError(`stream closed with code ${code}`, {
        code: 'CONNECTION_CLOSED',
        details: { close_code: code, reason },
      });
    }
    this.#end({ code, reason, error });
  }

  #end(info) {
    this.stopped = true;
    this.signal?.removeEventListener('abort', this.unsubscribe);
    if (info.error) this.onError(info.error);
    this.onClose?.(info);
  }
}
