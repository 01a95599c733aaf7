// HTTP transport of the SDK: one fetch per call with the reference's headers, a request id, the
// bearer token, a timeout and the caller's AbortSignal. Input: method, path, body, query.
// Output: the Response, or a typed ECPError. Uses only fetch and AbortController (browsers and
// Node >= 18 have both); nothing here is Node-specific.

import { ECPConnectionError, ECPTimeoutError, errorFromResponse } from './errors.js';

export function newRequestId() {
  const uuid = globalThis.crypto?.randomUUID?.();
  const hex = uuid ? uuid.replaceAll('-', '') : Math.random().toString(16).slice(2).padEnd(16, '0');
  return `sdk-${hex.slice(0, 16)}`;
}

/** A path segment, quoted so that an id can never change the path it is sent to. */
export function segment(value) {
  return encodeURIComponent(String(value));
}

export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * A signal that aborts when the caller's signal does or when `timeoutMs` passes; `timedOut()`
 * tells the two apart afterwards. `dispose()` clears the timer.
 */
function deadline(signal, timeoutMs) {
  const controller = new AbortController();
  let expired = false;
  const onAbort = () => controller.abort(signal.reason);
  if (signal) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  const timer =
    timeoutMs > 0 && Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          expired = true;
          controller.abort();
        }, timeoutMs)
      : undefined;
  return {
    signal: controller.signal,
    timeoutMs,
    timedOut: () => expired,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

export class Transport {
  constructor({ baseUrl, isDemo, token, timeout, debug, headers, fetch: fetchImpl }) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.isDemo = Boolean(isDemo);
    this.token = token;
    this.timeout = timeout;
    this.fetch = fetchImpl ?? globalThis.fetch?.bind(globalThis);
    if (typeof this.fetch !== 'function') {
      throw new TypeError('no fetch available: pass one as the `fetch` option');
    }
    this.headers = {
      'X-Demo-Mode': this.isDemo ? 'true' : 'false',
      ...(debug ? { 'X-Debug': 'true' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(headers ?? {}),
    };
    this.lastRequestId = undefined;
  }

  /** Sends one request; resolves to the Response of a 2xx answer, rejects with an ECPError. */
  async send(method, path, { body, query, headers, signal, timeout, requestId } = {}) {
    const rid = requestId ?? newRequestId();
    const url = `${this.baseUrl}${path}${query ? queryString(query) : ''}`;
    const limit = deadline(signal, timeout ?? this.timeout);
    let response;
    try {
      response = await this.fetch(url, {
        method,
        headers: {
          ...this.headers,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...(headers ?? {}),
          'X-Request-ID': rid,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: limit.signal,
      });
    } catch (cause) {
      limit.dispose();
      throw this.#failure(cause, limit, rid, url);
    }
    this.lastRequestId = response.headers.get('x-request-id') ?? rid;
    if (response.ok) {
      return { response, limit };
    }
    let payload;
    try {
      payload = await response.json();
    } catch {
      payload = undefined;
    } finally {
      limit.dispose();
    }
    throw errorFromResponse(response.status, payload, this.lastRequestId);
  }

  async json(method, path, options) {
    const { response, limit } = await this.send(method, path, options);
    try {
      return await response.json();
    } catch (cause) {
      throw this.#failure(cause, limit, this.lastRequestId, path);
    } finally {
      limit.dispose();
    }
  }

  async text(method, path, options) {
    const { response, limit } = await this.send(method, path, options);
    try {
      return await response.text();
    } catch (cause) {
      throw this.#failure(cause, limit, this.lastRequestId, path);
    } finally {
      limit.dispose();
    }
  }

  #failure(cause, limit, requestId, url) {
    if (limit.timedOut()) {
      return new ECPTimeoutError(`no answer from ${url} within ${limit.timeoutMs} ms`, {
        code: 'TIMEOUT',
        requestId,
        cause,
      });
    }
    // The caller's own abort is not an API error: it rejects with the signal's reason, as
    // fetch itself does.
    if (limit.signal.aborted) return limit.signal.reason ?? cause;
    if (cause instanceof SyntaxError) {
      return new ECPConnectionError(`answer from ${url} is not JSON`, {
        code: 'INVALID_RESPONSE',
        requestId,
        cause,
      });
    }
    return new ECPConnectionError(`cannot reach ${url}: ${cause?.cause?.message ?? cause}`, {
      code: 'CONNECTION_ERROR',
      requestId,
      cause,
    });
  }
}
