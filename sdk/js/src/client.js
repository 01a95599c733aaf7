// ECPClient: the reference's JavaScript SDK. One method per /api/v1 endpoint (the same set as the
// Python SDK, camelCased) and the three WebSocket streams. Input: plain objects shaped like the
// reference's request bodies. Output: the reference's response bodies (getManifest: text).
// Errors reject with typed ECPErrors. Runs unchanged in browsers and Node >= 20.

import { Stream, openSocket, resolveWebSocket } from './streams.js';
import { Transport, queryString, segment } from './transport.js';

export const DEFAULT_BASE_URL = 'http://localhost:8001/api/v1';
// Writes compile and publish before they answer; a generous default keeps them from timing out.
export const DEFAULT_TIMEOUT_MS = 60_000;

function callOptions({ signal, timeout, requestId } = {}) {
  return { signal, timeout, requestId };
}

export class ECPClient {
  /**
   * new ECPClient({ baseUrl, isDemo, token, timeout, debug, headers, fetch, WebSocket, wsAuth })
   */
  constructor({
    baseUrl = DEFAULT_BASE_URL,
    isDemo = false,
    token,
    timeout = DEFAULT_TIMEOUT_MS,
    debug = false,
    headers,
    fetch,
    WebSocket,
    wsAuth,
  } = {}) {
    this.transport = new Transport({ baseUrl, isDemo, token, timeout, debug, headers, fetch });
    this.baseUrl = this.transport.baseUrl;
    this.isDemo = this.transport.isDemo;
    this.webSocket = WebSocket;
    this.wsAuth = wsAuth;
    this.token = token;
  }

  /** The X-Request-ID of the last answer (or of the last attempt that got none). */
  get lastRequestId() {
    return this.transport.lastRequestId;
  }

  // --- tenants -------------------------------------------------------------------------------

  getTenants({ skip = 0, limit = 100, preset, status, ...options } = {}) {
    const query = { skip, limit, preset, status };
    return this.transport.json('GET', '/tenants/', { query, ...callOptions(options) });
  }

  getTenant(tenantId, options) {
    return this.transport.json('GET', `/tenants/${segment(tenantId)}`, callOptions(options));
  }

  /** The spec's current ETag, for updateTenant/deleteTenant({ ifMatch }). */
  async getTenantEtag(tenantId, options) {
    const path = `/tenants/${segment(tenantId)}`;
    const { response, limit } = await this.transport.send('GET', path, callOptions(options));
    limit.dispose();
    await response.body?.cancel();
    return response.headers.get('etag') ?? '';
  }

  createTenant(tenant, options) {
    return this.transport.json('POST', '/tenants/', { body: tenant, ...callOptions(options) });
  }

  updateTenant(tenantId, changes, { ifMatch, ...options } = {}) {
    return this.transport.json('PUT', `/tenants/${segment(tenantId)}`, {
      body: changes,
      headers: ifMatch ? { 'If-Match': ifMatch } : undefined,
      ...callOptions(options),
    });
  }

  deleteTenant(tenantId, { force = false, ifMatch, ...options } = {}) {
    return this.transport.json('DELETE', `/tenants/${segment(tenantId)}`, {
      query: { force },
      headers: ifMatch ? { 'If-Match': ifMatch } : undefined,
      ...callOptions(options),
    });
  }

  /**
   * The dry run of updateTenant: the same body compiled, nothing written. Answers the deltas
   * (replicas, CPU, memory, GPU, cost) and the manifest's unified diff (manifest_diff).
   */
  previewTenantUpdate(tenantId, changes, { ifMatch, ...options } = {}) {
    return this.transport.json('POST', `/tenants/${segment(tenantId)}/preview`, {
      body: changes,
      headers: ifMatch ? { 'If-Match': ifMatch } : undefined,
      ...callOptions(options),
    });
  }

  /** The tenant's commits, newest first, each with its compiled resources and deltas. */
  getTenantHistory(tenantId, { limit = 50, ...options } = {}) {
    return this.transport.json('GET', `/tenants/${segment(tenantId)}/history`, {
      query: { limit },
      ...callOptions(options),
    });
  }

  /** How to sign in here (tokens; OIDC issuer, client_id and scopes when configured). */
  getAuthConfig(options) {
    return this.transport.json('GET', '/auth/config', callOptions(options));
  }

  calculateResources(requirements, options) {
    return this.transport.json('POST', '/tenants/calculate-resources', {
      body: requirements,
      ...callOptions(options),
    });
  }

  // --- manifests -----------------------------------------------------------------------------

  /** The rendered manifest as text (YAML, or JSON text with format: 'json'). */
  getManifest(
    tenantId,
    { format = 'yaml', includeMonitoring = true, includeIngress = false, namespace, ...options } = {},
  ) {
    const query = {
      format,
      include_monitoring: includeMonitoring,
      include_ingress: includeIngress,
      namespace,
    };
    return this.transport.text('GET', `/tenants/${segment(tenantId)}/manifest`, {
      query,
      ...callOptions(options),
    });
  }

  validateManifest(manifestContent, { tenantId, ...options } = {}) {
    const body = { manifest_content: manifestContent };
    if (tenantId !== undefined) body.tenant_id = tenantId;
    return this.transport.json('POST', '/tenants/validate-manifest', {
      body,
      ...callOptions(options),
    });
  }

  getDeploymentStatus(tenantId, options) {
    const path = `/tenants/${segment(tenantId)}/deployment-status`;
    return this.transport.json('GET', path, callOptions(options));
  }

  // --- monitoring ----------------------------------------------------------------------------

  /**
   * One sample ({ cpu: 65.5, memory: 78.2 } or the reference's { timestamp, metrics } body) or an
   * array of { timestamp, metrics } samples, sent as one batch.
   */
  sendMetrics(tenantId, metrics, { timestamp, ...options } = {}) {
    let body;
    if (Array.isArray(metrics)) body = { samples: metrics };
    else if (metrics && typeof metrics.metrics === 'object') body = { ...metrics };
    else body = { metrics };
    if (timestamp !== undefined && !Array.isArray(metrics)) body.timestamp = timestamp;
    return this.transport.json('POST', `/tenants/${segment(tenantId)}/monitoring`, {
      body,
      ...callOptions(options),
    });
  }

  getMonitoring(tenantId, { metricType, hours = 24, interval = '5m', ...options } = {}) {
    return this.transport.json('GET', `/tenants/${segment(tenantId)}/monitoring`, {
      query: { hours, interval, metric_type: metricType },
      ...callOptions(options),
    });
  }

  getAlerts(tenantId, { limit = 100, hours = 24, ...options } = {}) {
    return this.transport.json('GET', `/tenants/${segment(tenantId)}/alerts`, {
      query: { limit, hours },
      ...callOptions(options),
    });
  }

  getSystemMetrics(options) {
    return this.transport.json('GET', '/monitoring/system', callOptions(options));
  }

  // --- WebSocket streams ---------------------------------------------------------------------

  /**
   * Calls onData with { timestamp, tenant_id, metrics } at every interval. Returns unsubscribe().
   * options: metrics, interval (ms), onError, onOpen, onClose, signal, reconnect.
   */
  subscribeToMonitoring(tenantId, onData, options = {}) {
    const { metrics = ['cpu', 'memory', 'gpu'], interval = 5000, ...rest } = options;
    const command = { action: 'subscribe', metrics, interval };
    return this.#stream(`/ws/monitoring/${segment(tenantId)}`, onData, { command, ...rest });
  }

  /** Calls onAlert with each new alert of the tenant as it fires. Returns unsubscribe(). */
  subscribeToAlerts(tenantId, onAlert, options = {}) {
    return this.#stream(`/ws/alerts/${segment(tenantId)}`, onAlert, options);
  }

  /** Calls onUpdate with each progress update until the deployment ends. Returns unsubscribe(). */
  subscribeToDeployment(deploymentId, onUpdate, options = {}) {
    return this.#stream(`/ws/deployment/${segment(deploymentId)}`, onUpdate, options);
  }

  /** ws(s)://host[/prefix]/ws/... for the base URL (its trailing /api/v1 is not part of it). */
  wsUrl(path) {
    const base = new URL(this.baseUrl);
    const scheme = base.protocol === 'https:' ? 'wss:' : 'ws:';
    const prefix = base.pathname.replace(/\/api\/v\d+\/?$/, '').replace(/\/+$/, '');
    const query = queryString({ demo: this.isDemo });
    return `${scheme}//${base.host}${prefix}${path}${query}`;
  }

  #stream(path, onMessage, { command, onError, onOpen, onClose, signal, reconnect } = {}) {
    if (typeof onMessage !== 'function') throw new TypeError('a callback is required');
    const url = this.wsUrl(path);
    const extraHeaders = { ...this.transport.headers };
    delete extraHeaders.Authorization; // openSocket places the token as the runtime allows
    delete extraHeaders['X-Demo-Mode']; // the demo flag travels as ?demo= (browsers need it so)
    const factory = async () => {
      const impl = await resolveWebSocket(this.webSocket);
      const headers = impl.kind === 'browser' ? undefined : extraHeaders;
      return openSocket(impl, url, { token: this.token, wsAuth: this.wsAuth, headers });
    };
    const stream = new Stream(factory, {
      command,
      onMessage,
      onError,
      onOpen,
      onClose,
      signal,
      reconnect,
    });
    return stream.unsubscribe;
  }
}
