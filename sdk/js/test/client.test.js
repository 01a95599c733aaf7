// The HTTP half of the SDK against a real `ecp serve`: every endpoint, If-Match, typed errors,
// request ids, timeouts and AbortSignal. The headers the SDK sends are checked on a local
// capture server, since a server without auth would accept a missing token silently.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as sdk from '../src/index.js';
import {
  ECPClient,
  ECPConnectionError,
  ECPError,
  ECPTimeoutError,
  InsufficientResourcesError,
  InvalidPresetError,
  NotFoundError,
  PreconditionFailedError,
  ServerError,
  TenantAlreadyExistsError,
  TenantNotFoundError,
  ValidationError,
  errorFromResponse,
} from '../src/index.js';
import { startServer } from './support/ecp-server.js';

let server;
let client;

before(async () => {
  server = await startServer();
  client = new ECPClient({ baseUrl: server.baseUrl, isDemo: false, token: server.token });
});
after(() => server?.stop());

const NEW_TENANT = {
  tenant_id: 'js-sdk-tenant',
  name: '내 서비스',
  preset: 'medium',
  service_requirements: { chatbot: 100 },
};

describe('tenants', () => {
  test('a tenant is created, read, updated with If-Match and deleted', async () => {
    const created = await client.createTenant(NEW_TENANT);
    assert.equal(created.tenant_id, 'js-sdk-tenant');
    assert.match(created.deployment_id, /^dep-[0-9a-f]+$/);

    const tenant = await client.getTenant('js-sdk-tenant');
    assert.deepEqual(tenant.service_requirements, { chatbot: 100 });
    const listed = await client.getTenants({ limit: 1000 });
    assert.ok(listed.tenants.some((t) => t.tenant_id === 'js-sdk-tenant'));

    const etag = await client.getTenantEtag('js-sdk-tenant');
    assert.match(etag, /^(W\/)?".+"$/);
    await client.updateTenant('js-sdk-tenant', { service_requirements: { chatbot: 150 } }, { ifMatch: etag });
    assert.equal((await client.getTenant('js-sdk-tenant')).service_requirements.chatbot, 150);

    // The ETag read before the update names a version that is gone now.
    const stale = client.updateTenant('js-sdk-tenant', { name: 'x' }, { ifMatch: etag });
    await assert.rejects(stale, (e) => e instanceof PreconditionFailedError && e.status === 412);

    const deleted = await client.deleteTenant('js-sdk-tenant', { ifMatch: await client.getTenantEtag('js-sdk-tenant') });
    assert.match(deleted.deletion_id, /^del-/);
    await assert.rejects(client.getTenant('js-sdk-tenant'), TenantNotFoundError);
  });

  test('list filters and pagination reach the server', async () => {
    const page = await client.getTenants({ skip: 1, limit: 2 });
    assert.equal(page.pagination.skip, 1);
    assert.equal(page.pagination.limit, 2);
    assert.ok(page.tenants.length <= 2);
    const medium = await client.getTenants({ preset: 'large' });
    assert.ok(medium.tenants.length > 0);
    assert.ok(medium.tenants.every((t) => t.preset === 'large'));
  });

  test('calculateResources gives the same numbers as the CLI', async () => {
    const answer = await client.calculateResources({ service_requirements: { chatbot: 100 } });
    assert.equal(typeof answer.recommended_preset, 'string');
    assert.match(answer.resources.cpu, /^\d+m$/);
    assert.equal(typeof answer.resources.gpu, 'number');
  });
});

describe('changes', () => {
  test('previewTenantUpdate compiles an edit without writing it, with the manifest diff', async () => {
    const manifest = readFileSync(join(server.root, 'output', 'my-ai-service', 'manifest.yaml'), 'utf8');
    const etag = await client.getTenantEtag('my-ai-service');
    const preview = await client.previewTenantUpdate('my-ai-service', { service_requirements: { chatbot: 400 } }, { ifMatch: etag });
    assert.equal(preview.dry_run, true);
    assert.equal(preview.changed, true);
    assert.equal(preview.etag, etag);
    assert.match(preview.manifest_diff, /^--- a\/my-ai-service\/manifest.yaml\n\+\+\+ b\/my-ai-service\/manifest.yaml\n@@ /);
    assert.ok(preview.deltas.length > 0, JSON.stringify(preview.deltas));
    assert.match(preview.manifest_diff, /^-    ecp.ai\/channels: "100"\n\+    ecp.ai\/channels: "400"$/m);
    assert.equal(readFileSync(join(server.root, 'output', 'my-ai-service', 'manifest.yaml'), 'utf8'), manifest);
    assert.equal(await client.getTenantEtag('my-ai-service'), etag);
    const stale = client.previewTenantUpdate('my-ai-service', { name: 'x' }, { ifMatch: '"gone"' });
    await assert.rejects(stale, (e) => e instanceof PreconditionFailedError && e.status === 412);
  });

  test('getTenantHistory lists the commits that touched a tenant', async () => {
    const history = await client.getTenantHistory('my-ai-service', { limit: 5 });
    assert.equal(history.tenant_id, 'my-ai-service');
    assert.equal(history.source, 'workspace-git');
    assert.ok(history.count >= 1);
    assert.equal(history.commits.at(-1).action, 'created');
    await assert.rejects(client.getTenantHistory('my-ai-service', { limit: 0 }), ValidationError);
  });

  test('getAuthConfig needs no token and names the sign-in methods', async () => {
    const anonymous = new ECPClient({ baseUrl: server.baseUrl, isDemo: false });
    assert.deepEqual(await anonymous.getAuthConfig(), { token: true, oidc: null });
  });
});

describe('manifests', () => {
  test('getManifest returns exactly the compiled bytes of output/<id>/manifest.yaml', async () => {
    const manifest = await client.getManifest('my-ai-service');
    const compiled = readFileSync(join(server.root, 'output', 'my-ai-service', 'manifest.yaml'), 'utf8');
    assert.equal(manifest, compiled);
    const asJson = JSON.parse(await client.getManifest('my-ai-service', { format: 'json', includeIngress: true }));
    assert.ok(JSON.stringify(asJson).includes('"Ingress"'));
  });

  test('validateManifest accepts our output and reports a broken document', async () => {
    const good = await client.validateManifest(await client.getManifest('my-ai-service'));
    assert.equal(good.valid, true);
    const bad = await client.validateManifest('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n');
    assert.equal(bad.valid, false);
    assert.ok(bad.errors.length > 0);
  });

  test('getDeploymentStatus reads the deploy repo', async () => {
    const status = await client.getDeploymentStatus('my-ai-service');
    assert.equal(status.tenant_id, 'my-ai-service');
    assert.equal(typeof status.progress, 'number');
  });
});

/** The same metrics once a minute for three minutes, ending now. */
function held(metrics) {
  const now = Math.floor(Date.now() / 1000) * 1000;
  return [2, 1, 0].map((m) => ({
    timestamp: new Date(now - m * 60000).toISOString().replace('.000', ''),
    metrics,
  }));
}

describe('monitoring', () => {
  test('metrics sent come back from getMonitoring, and an alert fires', async () => {
    // Held for the rule's `for: 2m` (one sample a minute), as the server's alert rules require.
    const accepted = await client.sendMetrics('my-ai-service', held({ cpu: 65.5, memory: 96.5 }));
    assert.equal(accepted.accepted, 3);
    const data = await client.getMonitoring('my-ai-service', { metricType: 'cpu', hours: 1, interval: '1m' });
    assert.ok(data.metrics.cpu.some((point) => point.value === 65.5));
    const alerts = await client.getAlerts('my-ai-service', { limit: 10 });
    assert.ok(alerts.alerts.some((a) => a.metric === 'memory' && a.severity === 'critical'));
    const system = await client.getSystemMetrics();
    assert.ok(system.total_tenants >= 5);
  });

  test('a batch of samples is one request', async () => {
    const now = Date.now();
    const samples = [2, 1].map((m) => ({
      timestamp: new Date(Math.floor(now / 60000) * 60000 - m * 60000).toISOString().replace('.000', ''),
      metrics: { cpu_usage: 10 + m },
    }));
    assert.equal((await client.sendMetrics('shop-chat-lite', samples)).accepted, 2);
  });

  test('a bad metric is a ValidationError naming the field', async () => {
    const error = await client.sendMetrics('my-ai-service', { cpu: 101 }).catch((e) => e);
    assert.ok(error instanceof ValidationError, String(error));
    assert.equal(error.status, 422);
    assert.match(String(error.details.field), /cpu/);
  });
});

describe('errors', () => {
  test('a missing tenant is a TenantNotFoundError with code, details, status and our request id', async () => {
    const error = await client.getTenant('nope', { requestId: 'jsreq42' }).catch((e) => e);
    assert.ok(error instanceof TenantNotFoundError);
    assert.ok(error instanceof NotFoundError && error instanceof ECPError && error instanceof Error);
    assert.equal(error.code, 'TENANT_NOT_FOUND');
    assert.equal(error.status, 404);
    assert.equal(error.requestId, 'jsreq42');
    assert.equal(error.details.tenant_id, 'nope');
    assert.equal(client.lastRequestId, 'jsreq42');
  });

  test('duplicate, unknown-preset and oversize requests map to their classes', async () => {
    const dup = { ...NEW_TENANT, tenant_id: 'my-ai-service' };
    await assert.rejects(client.createTenant(dup), (e) => e instanceof TenantAlreadyExistsError && e.status === 409);
    const preset = { ...NEW_TENANT, tenant_id: 'js-bad-preset', preset: 'huge' };
    // The server refuses an unknown preset name as a schema error, naming the field.
    const refused = await client.createTenant(preset).catch((e) => e);
    assert.ok(refused instanceof ValidationError && !(refused instanceof InvalidPresetError));
    assert.match(JSON.stringify(refused.details), /preset/);
    const big = { ...NEW_TENANT, tenant_id: 'js-too-big', preset: 'micro', service_requirements: { callbot: 500 } };
    await assert.rejects(client.createTenant(big), InsufficientResourcesError);
  });

  test('a tenant id cannot steer the request path', async () => {
    const error = await client.getTenant('../../openapi.json').catch((e) => e);
    assert.ok(error instanceof ECPError, `got ${JSON.stringify(error)}`);
    assert.ok([404, 422].includes(error.status));
  });

  test('an unreachable server is an ECPConnectionError', async () => {
    const dead = new ECPClient({ baseUrl: 'http://127.0.0.1:9/api/v1', timeout: 5000 });
    const error = await dead.getTenants().catch((e) => e);
    assert.ok(error instanceof ECPConnectionError && !(error instanceof ECPTimeoutError), String(error));
    assert.equal(error.code, 'CONNECTION_ERROR');
    assert.match(error.requestId, /^sdk-[0-9a-f]{16}$/);
  });

  test('bodies of any shape become typed errors', () => {
    assert.ok(errorFromResponse(502, '<html>', 'r1') instanceof ServerError);
    const unknown = errorFromResponse(418, { error: { code: 'NEW_CODE', message: 'm' } }, 'r2');
    assert.equal(unknown.constructor, ECPError);
    assert.equal(unknown.code, 'NEW_CODE');
    assert.equal(unknown.requestId, 'r2');
  });
});

describe('transport', () => {
  let capture;
  let seen;
  before(async () => {
    seen = [];
    // Answers what it is asked after `delay` ms (never, for /hang), recording the headers.
    capture = createServer((req, res) => {
      seen.push({ url: req.url, method: req.method, headers: req.headers });
      if (req.url.startsWith('/api/v1/hang')) return;
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': req.headers['x-request-id'] });
      res.end('{"tenants": []}');
    });
    await new Promise((done) => capture.listen(0, '127.0.0.1', done));
  });
  after(() => {
    capture.closeAllConnections();
    capture.close();
  });
  const base = () => `http://127.0.0.1:${capture.address().port}/api/v1`;

  test('every request carries the demo flag, the bearer token and a request id', async () => {
    const demo = new ECPClient({ baseUrl: base(), isDemo: true, token: 'ecp_test_token' });
    await demo.getTenants({ preset: 'small' });
    const { headers, url } = seen.at(-1);
    assert.equal(headers['x-demo-mode'], 'true');
    assert.equal(headers.authorization, 'Bearer ecp_test_token');
    assert.match(headers['x-request-id'], /^sdk-[0-9a-f]{16}$/);
    assert.equal(url, '/api/v1/tenants/?skip=0&limit=100&preset=small');
    await new ECPClient({ baseUrl: base() }).getTenants();
    assert.equal(seen.at(-1).headers.authorization, undefined);
    assert.equal(seen.at(-1).headers['x-demo-mode'], 'false');
  });

  test('a call that gets no answer in time is an ECPTimeoutError', async () => {
    const slow = new ECPClient({ baseUrl: base(), timeout: 300 });
    const started = Date.now();
    const error = await slow.getTenant('x', { requestId: 'to1' }).catch((e) => e);
    // getTenant hits /tenants/x, which answers; /hang never does.
    assert.ok(!(error instanceof Error), 'a quick answer is not a timeout');
    const hung = await slow.transport.json('GET', '/hang', {}).catch((e) => e);
    assert.ok(hung instanceof ECPTimeoutError, String(hung));
    assert.equal(hung.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 5000);
    const perCall = await slow.transport.json('GET', '/hang', { timeout: 50 }).catch((e) => e);
    assert.match(perCall.message, /within 50 ms/);
  });

  test("the caller's AbortSignal aborts with its own reason, not an API error", async () => {
    const c = new ECPClient({ baseUrl: base(), timeout: 0 });
    const controller = new AbortController();
    const pending = c.transport.json('GET', '/hang', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await pending.catch((e) => e);
    assert.equal(error.name, 'AbortError');
    assert.ok(!(error instanceof ECPError));
    const already = await c.getTenants({ signal: AbortSignal.abort() }).catch((e) => e);
    assert.equal(already.name, 'AbortError');
  });
});

describe('browser use', () => {
  test('the sources are plain ES modules a browser can import without a bundler', () => {
    const dir = new URL('../src/', import.meta.url);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.js'));
    assert.ok(sources.length >= 5);
    for (const file of sources) {
      const code = readFileSync(new URL(file, dir), 'utf8');
      const specifiers = [...code.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
      for (const specifier of specifiers) {
        assert.match(specifier, /^\.\/[\w-]+\.js$/, `${file} imports ${specifier}`);
      }
      assert.doesNotMatch(code, /\brequire\(|from 'node:|import\('node:/, file);
      // Node-only globals only behind a typeof check, which is false in a browser.
      for (const m of code.matchAll(/\bprocess\b/g)) {
        const before = code.slice(Math.max(0, m.index - 7), m.index);
        const line = code.slice(code.lastIndexOf('\n', m.index), code.indexOf('\n', m.index));
        assert.ok(before === 'typeof ' || /typeof process/.test(line), `${file}: ${line.trim()}`);
      }
    }
  });
});

describe('types', () => {
  test('index.d.ts declares exactly the runtime exports', () => {
    const dts = readFileSync(new URL('../src/index.d.ts', import.meta.url), 'utf8');
    const declared = [...dts.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((m) => m[1]);
    assert.deepEqual(declared.sort(), Object.keys(sdk).sort());
  });

  test('every error class the runtime maps a code to is an ECPError', () => {
    for (const [name, value] of Object.entries(sdk)) {
      if (name.endsWith('Error') && name !== 'ECPError') {
        assert.ok(value.prototype instanceof ECPError, name);
        assert.equal(new value('m').name, name);
      }
    }
  });
});
