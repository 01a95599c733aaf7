// Compiled by `tsc --noEmit` only (never run): the README's usage type-checks against
// src/index.d.ts, and misuse is rejected (@ts-expect-error fails the check if it stops erroring).
import {
  ECPClient,
  ECPError,
  PreconditionFailedError,
  TenantNotFoundError,
  ValidationError,
  type Alert,
  type MonitoringUpdate,
  type Unsubscribe,
} from '@ecp-ai/orchestrator-client';

export async function usage(token: string): Promise<void> {
  const client = new ECPClient({ baseUrl: 'http://localhost:8001/api/v1', isDemo: false, token });
  const tenants = await client.getTenants();
  const first: string | undefined = tenants.tenants[0]?.tenant_id;
  const created = await client.createTenant({
    tenant_id: 'my-service',
    name: '내 서비스',
    preset: 'medium',
    service_requirements: { chatbot: 100 },
  });
  const deploymentId: string = created.deployment_id;
  const etag = await client.getTenantEtag('my-service');
  await client.updateTenant('my-service', { service_requirements: { chatbot: 150 } }, { ifMatch: etag });
  const preview = await client.previewTenantUpdate('my-service', { name: 'x' }, { ifMatch: etag });
  const diff: string = preview.manifest_diff;
  const history = await client.getTenantHistory('my-service', { limit: 10 });
  const cost: number | null | undefined = history.commits[0]?.resources?.monthly_cost_usd;
  const sso: string | undefined = (await client.getAuthConfig()).oidc?.client_id;
  const estimate = await client.calculateResources({ service_requirements: { chatbot: 100 } });
  const gpu: number = estimate.resources.gpu;
  const manifest: string = await client.getManifest('my-service', { includeIngress: true });
  const valid: boolean = (await client.validateManifest(manifest)).valid;
  await client.sendMetrics('my-service', { cpu: 65.5, memory: 78.2 });
  await client.getMonitoring('my-service', { metricType: 'cpu', signal: AbortSignal.timeout(1000) });
  const alerts: Alert[] = (await client.getAlerts('my-service')).alerts;
  await client.getSystemMetrics({ timeout: 5000 });
  const stop: Unsubscribe = client.subscribeToMonitoring(
    'my-service',
    (data: MonitoringUpdate) => console.log(data.metrics.cpu),
    { metrics: ['cpu'], interval: 1000, onError: (e: ECPError) => console.log(e.code, e.requestId) },
  );
  stop();
  client.subscribeToDeployment(deploymentId, (u) => console.log(u.progress), { reconnect: false });
  client.subscribeToAlerts('my-service', (a) => console.log(a.severity));
  try {
    await client.deleteTenant('my-service', { force: true });
  } catch (e) {
    if (e instanceof TenantNotFoundError) console.log(e.status, e.details);
    if (e instanceof PreconditionFailedError || e instanceof ValidationError) console.log(e.code);
  }
  console.log(first, gpu, valid, alerts.length, diff, cost, sso);

  // @ts-expect-error a tenant needs its service_requirements
  await client.createTenant({ tenant_id: 'x' });
  // @ts-expect-error ifMatch is a string (the ETag)
  await client.updateTenant('x', {}, { ifMatch: 1 });
  // @ts-expect-error streams need a callback
  client.subscribeToAlerts('x');
}
