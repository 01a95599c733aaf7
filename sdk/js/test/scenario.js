// The cross-SDK contract run through this SDK (see sdk/scenario.json): prints the transcript as
// JSON on stdout. tests/test_sdk_contract.py runs it beside the Python and Go runs against the
// same server and requires the same transcript. Env: ECP_SCENARIO_BASE_URL, ECP_SCENARIO_TOKEN.

import { readFileSync } from 'node:fs';

import { ECPClient } from '../src/index.js';

const scenario = JSON.parse(readFileSync(new URL('../../scenario.json', import.meta.url), 'utf8'));
const client = new ECPClient({
  baseUrl: process.env.ECP_SCENARIO_BASE_URL,
  isDemo: false,
  token: process.env.ECP_SCENARIO_TOKEN || undefined,
});
const transcript = [];
const record = (step, value) => transcript.push([step, value]);

function describeError(error) {
  return {
    class: error.constructor.name,
    code: error.code,
    status: error.status,
    message: error.message,
    details: error.details,
    request_id: Boolean(error.requestId),
  };
}

async function expectError(step, promise) {
  try {
    await promise;
    record(step, 'no error');
  } catch (error) {
    record(step, describeError(error));
  }
}

const pick = (object, keys) => Object.fromEntries(keys.map((k) => [k, object[k]]));
const id = scenario.tenant.tenant_id;

const created = await client.createTenant(scenario.tenant);
record('create', {
  ...pick(created, ['tenant_id', 'status', 'estimated_resources', 'estimated_cost']),
  deployment_id: created.deployment_id.startsWith('dep-'),
});
const tenant = await client.getTenant(id);
record('get', {
  ...pick(tenant, ['tenant_id', 'name', 'preset', 'service_requirements', 'resources']),
  sla_target: pick(tenant.sla_target, ['availability', 'response_time']),
});

const etag = await client.getTenantEtag(id);
const updated = await client.updateTenant(id, scenario.update, { ifMatch: etag });
record('update', pick(updated, ['tenant_id', 'status', 'estimated_resources', 'estimated_cost']));
record('get_after_update', (await client.getTenant(id)).service_requirements);
await expectError('error:precondition_failed', client.updateTenant(id, scenario.stale_update, { ifMatch: etag }));

const estimate = await client.calculateResources(scenario.calculate);
record('calculate', {
  ...pick(estimate, ['recommended_preset', 'resources', 'gpu_type', 'estimated_cost']),
  alternatives: estimate.alternatives.map((a) => a.preset),
});

const manifest = await client.getManifest(id);
const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(manifest));
record('manifest', { sha256: Buffer.from(digest).toString('hex'), length: [...manifest].length });
const validation = await client.validateManifest(manifest, { tenantId: id });
record('validate', {
  valid: validation.valid,
  errors: validation.errors.length,
  warnings: validation.warnings.length,
  resource_summary: validation.resource_summary,
});

const accepted = await client.sendMetrics(id, scenario.metrics);
record('send_metrics', { accepted: accepted.accepted, alerts: accepted.alerts.length });
const series = await client.getMonitoring(id, { metricType: 'cpu', hours: 1, interval: '1m' });
record('monitoring', { has_sent_cpu: series.metrics.cpu.some((p) => p.value === scenario.metrics.cpu) });

const update = await new Promise((resolve, reject) => {
  const stop = client.subscribeToMonitoring(
    id,
    (data) => {
      stop();
      resolve(data);
    },
    { metrics: scenario.stream_metrics, interval: scenario.stream_interval_ms, onError: reject },
  );
  setTimeout(() => reject(new Error('no stream update within 20 s')), 20_000).unref();
});
record('stream', pick(update, ['tenant_id', 'metrics']));

const deleted = await client.deleteTenant(id);
record('delete', { deletion_id: deleted.deletion_id.startsWith('del-') });
await expectError('error:not_found_after_delete', client.getTenant(id));

await expectError('error:not_found', client.getTenant(scenario.missing_tenant));
await expectError('error:already_exists', client.createTenant({ ...scenario.tenant, tenant_id: scenario.existing_tenant }));
await expectError('error:validation', client.createTenant(scenario.invalid_tenant));
await expectError('error:insufficient_resources', client.createTenant(scenario.oversized_tenant));
await expectError('error:manifest_invalid', client.validateManifest(scenario.unreadable_manifest));
await expectError(
  'error:stream',
  new Promise((resolve, reject) => {
    client.subscribeToAlerts(scenario.missing_tenant, resolve, { onError: reject });
  }),
);
const unreachable = new ECPClient({ baseUrl: scenario.unreachable_base_url, timeout: 5000 });
try {
  await unreachable.getTenants();
  record('error:connection', 'no error');
} catch (error) {
  record('error:connection', { class: error.constructor.name });
}

process.stdout.write(JSON.stringify(transcript));
