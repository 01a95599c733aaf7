// The three streams against a real `ecp serve` (updates, error frames as typed errors,
// unsubscribe, reconnect after the server restarts), plus a local `ws` server where the test
// must see the handshake itself (where the token travels) or time the backoff.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';

import { ECPClient, TenantNotFoundError, UnauthorizedError, ValidationError } from '../src/index.js';
import { nextValue, startServer } from './support/ecp-server.js';

let server;
let client;

before(async () => {
  server = await startServer();
  client = new ECPClient({ baseUrl: server.baseUrl, isDemo: false, token: server.token });
});
after(() => server?.stop());

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('real server', () => {
  test('subscribeToMonitoring delivers the metrics just sent', async () => {
    await client.sendMetrics('my-ai-service', { cpu: 65.5, memory: 78.2, gpu: 85.0 });
    let stop;
    const update = await nextValue((resolve) => {
      stop = client.subscribeToMonitoring('my-ai-service', resolve, { interval: 250 });
    });
    stop();
    assert.equal(update.tenant_id, 'my-ai-service');
    assert.deepEqual(update.metrics, { cpu: 65.5, memory: 78.2, gpu: 85.0 });
  });

  test('unsubscribe stops the updates', async () => {
    const seen = [];
    const stop = client.subscribeToMonitoring('my-ai-service', (d) => seen.push(d), {
      metrics: ['cpu'],
      interval: 250,
    });
    while (seen.length < 2) await sleep(50);
    stop();
    const count = seen.length;
    await sleep(800);
    assert.equal(seen.length, count);
    assert.deepEqual(Object.keys(seen[0].metrics), ['cpu']);
  });

  test("aborting the stream's signal unsubscribes", async () => {
    const controller = new AbortController();
    const seen = [];
    let closed = false;
    client.subscribeToMonitoring('my-ai-service', (d) => seen.push(d), {
      interval: 250,
      signal: controller.signal,
      onClose: () => (closed = true),
    });
    while (seen.length < 1) await sleep(50);
    controller.abort();
    const count = seen.length;
    await sleep(800);
    assert.equal(seen.length, count);
    assert.equal(closed, false, 'onClose is for ends the caller did not ask for');
  });

  test('an error frame is a typed error and ends the stream without reconnecting', async () => {
    const errors = [];
    const end = await nextValue((onClose) => {
      client.subscribeToAlerts('no-such-tenant', () => assert.fail('no alerts expected'), {
        onError: (e) => errors.push(e),
        onClose,
      });
    });
    assert.equal(errors.length, 1);
    const [error] = errors;
    assert.ok(error instanceof TenantNotFoundError, String(error));
    assert.equal(error.code, 'TENANT_NOT_FOUND');
    assert.equal(error.status, 404);
    assert.ok(error.requestId);
    assert.equal(end.code, 4404);
  });

  test('an invalid subscription is a ValidationError (close 4422)', async () => {
    const error = await nextValue((onError) => {
      client.subscribeToMonitoring('my-ai-service', () => {}, { interval: 1, onError });
    });
    assert.ok(error instanceof ValidationError);
    assert.equal(error.status, 422);
    assert.equal(error.details.field, 'interval');
  });

  test('subscribeToAlerts receives an alert as it fires', async () => {
    let stop;
    let opened;
    const isOpen = new Promise((r) => (opened = r));
    const alert = nextValue((resolve) => {
      stop = client.subscribeToAlerts('shop-chat-lite', resolve, { onOpen: opened });
    });
    await isOpen;
    await sleep(200); // the server registers the subscriber just after the handshake
    // Held for the rule's `for: 2m` (one sample a minute), as the server's alert rules require.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const held = [2, 1, 0].map((m) => ({
      timestamp: new Date(now - m * 60000).toISOString().replace('.000', ''),
      metrics: { memory_usage: 96.5 },
    }));
    await client.sendMetrics('shop-chat-lite', held);
    const got = await alert;
    stop();
    assert.equal(got.severity, 'critical');
    assert.equal(got.metric, 'memory');
    assert.equal(got.threshold, 95.0);
  });

  test('subscribeToDeployment follows the deployment a create returned', async () => {
    const created = await client.createTenant({
      tenant_id: 'js-stream-dep',
      name: 'stream',
      service_requirements: { chatbot: 10 },
    });
    let stop;
    const update = await nextValue((resolve) => {
      stop = client.subscribeToDeployment(created.deployment_id, resolve);
    });
    stop();
    assert.equal(update.deployment_id, created.deployment_id);
    assert.deepEqual(Object.keys(update).sort(), ['deployment_id', 'message', 'phase', 'progress', 'status']);
  });

  test('a stream reconnects after the server restarts and subscribes again', async () => {
    const seen = [];
    const stop = client.subscribeToMonitoring('my-ai-service', (d) => seen.push(d), {
      interval: 250,
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      onError: () => {},
    });
    while (seen.length < 1) await sleep(50);
    await server.restart();
    const before = seen.length;
    const deadline = Date.now() + 30_000;
    while (seen.length === before && Date.now() < deadline) await sleep(100);
    stop();
    assert.ok(seen.length > before, 'no update after the restart');
  });
});

describe('handshake and backoff (local ws server)', () => {
  let wss;
  let handshakes;
  before(async () => {
    handshakes = [];
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => p.values().next().value });
    wss.on('connection', (socket, request) => {
      handshakes.push({ at: Date.now(), url: request.url, headers: request.headers });
      if (request.url.startsWith('/ws/deployment/')) {
        socket.send(JSON.stringify({ deployment_id: 'dep-1', status: 'completed', progress: 100 }));
        socket.close(1000);
        return;
      }
      socket.on('message', (m) => socket.send(JSON.stringify({ echo: JSON.parse(String(m)) })));
    });
    await new Promise((r) => wss.on('listening', r));
  });
  after(() => new Promise((r) => wss.close(r)));
  const base = () => `http://127.0.0.1:${wss.address().port}/api/v1`;

  test('Node sends the token as an Authorization header; the demo flag goes in the query', async () => {
    const c = new ECPClient({ baseUrl: base(), isDemo: true, token: 'ecp_abc' });
    let stop;
    const echo = await nextValue((r) => (stop = c.subscribeToMonitoring('t1', r, { metrics: ['cpu'], interval: 1000 })));
    stop();
    const { url, headers } = handshakes.at(-1);
    assert.equal(url, '/ws/monitoring/t1?demo=true');
    assert.equal(headers.authorization, 'Bearer ecp_abc');
    assert.deepEqual(echo, { echo: { action: 'subscribe', metrics: ['cpu'], interval: 1000 } });
  });

  test("for browsers the token can travel as ?access_token= or as a subprotocol", async () => {
    for (const [wsAuth, check] of [
      ['query', (h) => assert.equal(new URL(h.url, 'ws://x').searchParams.get('access_token'), 'ecp_q')],
      ['protocol', (h) => assert.deepEqual(h.headers['sec-websocket-protocol'].split(',').map((p) => p.trim()), ['bearer', 'ecp_q'])],
    ]) {
      const c = new ECPClient({ baseUrl: base(), token: 'ecp_q', wsAuth });
      let stop;
      await nextValue((r) => (stop = c.subscribeToMonitoring('t2', r)));
      stop();
      const handshake = handshakes.at(-1);
      check(handshake);
      assert.equal(handshake.headers.authorization, undefined, wsAuth);
    }
  });

  test('a normal close ends a deployment stream without an error or a reconnect', async () => {
    const start = handshakes.length;
    const updates = [];
    const errors = [];
    const c = new ECPClient({ baseUrl: base() });
    const end = await nextValue((onClose) =>
      c.subscribeToDeployment('dep-1', (u) => updates.push(u), { onError: (e) => errors.push(e), onClose }),
    );
    await sleep(700);
    assert.deepEqual(updates, [{ deployment_id: 'dep-1', status: 'completed', progress: 100 }]);
    assert.equal(end.code, 1000);
    assert.equal(end.error, undefined);
    assert.deepEqual(errors, []);
    assert.equal(handshakes.length - start, 1);
  });

  test('reconnects back off exponentially and give up after maxRetries', async () => {
    const start = handshakes.length;
    const drop = (socket) => socket.terminate(); // an abnormal close (1006) every time
    wss.on('connection', drop);
    const c = new ECPClient({ baseUrl: base() });
    const end = await nextValue((onClose) =>
      c.subscribeToAlerts('t3', () => {}, {
        reconnect: { maxRetries: 4, initialDelayMs: 100, maxDelayMs: 10_000 },
        onError: () => {},
        onClose,
      }),
    );
    wss.off('connection', drop);
    const times = handshakes.slice(start).map((h) => h.at);
    assert.equal(times.length, 5, 'one connection and four retries');
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // Retry n waits 100 ms * 2^n, jittered down to at most half.
    gaps.forEach((gap, n) => assert.ok(gap >= 50 * 2 ** n - 15, `gap ${n} was ${gap} ms: ${gaps}`));
    assert.ok(gaps[3] > gaps[0] * 2, `no growth: ${gaps}`);
    assert.equal(end.code, 1006);
    assert.equal(end.error.code, 'CONNECTION_CLOSED');
  });

  test('a handshake the server refuses (401) is a typed error, not retried', async () => {
    const { createServer } = await import('node:http');
    const refuse = createServer((req, res) => res.writeHead(401).end());
    let upgrades = 0;
    refuse.on('upgrade', (req, socket) => {
      upgrades += 1;
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise((r) => refuse.listen(0, '127.0.0.1', r));
    const c = new ECPClient({ baseUrl: `http://127.0.0.1:${refuse.address().port}/api/v1` });
    const errors = [];
    const end = await nextValue((onClose) =>
      c.subscribeToAlerts('t5', () => {}, { onError: (e) => errors.push(e), onClose, reconnect: { initialDelayMs: 10 } }),
    );
    await sleep(200);
    refuse.close();
    assert.equal(upgrades, 1);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof UnauthorizedError, String(errors[0]));
    assert.equal(errors[0].status, 401);
    assert.equal(end.code, 4401);
  });

  test("Node's global WebSocket (undici) carries the Authorization header too", async (t) => {
    const probe = `
      import { ECPClient } from ${JSON.stringify(new URL('../src/index.js', import.meta.url).href)};
      if (typeof WebSocket !== 'function') { console.log('NO_GLOBAL'); process.exit(0); }
      const c = new ECPClient({ baseUrl: ${JSON.stringify(base())}, token: 'ecp_global' });
      const stop = c.subscribeToMonitoring('t4', (m) => { console.log(JSON.stringify(m)); stop(); });
    `;
    const out = await new Promise((resolve, reject) =>
      execFile(process.execPath, ['--experimental-websocket', '--no-warnings', '--input-type=module', '-e', probe],
        { timeout: 20_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    if (out.includes('NO_GLOBAL')) return t.skip('this Node has no global WebSocket even behind the flag');
    assert.equal(JSON.parse(out).echo.action, 'subscribe');
    assert.equal(handshakes.at(-1).headers.authorization, 'Bearer ecp_global');
  });
});
