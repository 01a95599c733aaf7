// Types of @ecp-ai/orchestrator-client, written by hand beside the JavaScript and checked with
// `tsc --noEmit` (test/types-usage.ts uses every export). Response shapes follow the API
// reference v1.51; fields the server may add are allowed through index signatures.

export declare const DEFAULT_BASE_URL: string;
export declare const DEFAULT_TIMEOUT_MS: number;

/** How a token reaches a WebSocket: a header (Node), `?access_token=` or Sec-WebSocket-Protocol. */
export type WebSocketAuth = 'header' | 'query' | 'protocol';

export interface ClientConfig {
  baseUrl?: string;
  isDemo?: boolean;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Milliseconds per call (default 60000); 0 or Infinity for none. */
  timeout?: number;
  debug?: boolean;
  headers?: Record<string, string>;
  fetch?: typeof globalThis.fetch;
  /** A WebSocket constructor (the `ws` package's, or a WHATWG one). */
  WebSocket?: unknown;
  wsAuth?: WebSocketAuth;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Milliseconds for this call, overriding the client's timeout. */
  timeout?: number;
  requestId?: string;
}

export type Quantity = string;

export interface Resources {
  cpu: Quantity;
  memory: Quantity;
  gpu: number;
  storage?: Quantity;
  [key: string]: unknown;
}

export interface SlaTarget {
  availability?: string;
  response_time?: string;
  concurrent_users?: number;
}

export interface TenantRequest {
  tenant_id: string;
  name?: string;
  preset?: 'micro' | 'small' | 'medium' | 'large' | string;
  service_requirements: Record<string, number>;
  sla_target?: SlaTarget;
  description?: string;
  [key: string]: unknown;
}

export type TenantUpdate = Partial<Omit<TenantRequest, 'tenant_id'>>;

export interface TenantSummary {
  tenant_id: string;
  name: string;
  preset: string;
  is_demo: boolean;
  status: string;
  services_count: number;
  cpu_limit: Quantity;
  memory_limit: Quantity;
  gpu_limit: number;
  storage_limit: Quantity;
  labels?: Record<string, string>;
  [key: string]: unknown;
}

export interface TenantList {
  tenants: TenantSummary[];
  total_count: number;
  demo_count: number;
  active_count: number;
  pagination: { skip: number; limit: number; has_more: boolean };
}

export interface Tenant {
  tenant_id: string;
  name: string;
  preset: string;
  is_demo: boolean;
  status: string;
  service_requirements: Record<string, number>;
  resources: Resources;
  sla_target: SlaTarget;
  services: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface TenantCreated {
  tenant_id: string;
  status: string;
  deployment_id: string;
  estimated_resources: Resources;
  estimated_cost: string;
  deployment_time: string;
  created_at: string;
  [key: string]: unknown;
}

export interface TenantUpdated {
  tenant_id: string;
  status: string;
  deployment_id: string | null;
  estimated_resources: Resources;
  estimated_cost: string;
  deployment_time: string;
  updated_at: string;
  [key: string]: unknown;
}

export interface TenantDeleted {
  message: string;
  deletion_id: string;
  estimated_time: string;
  [key: string]: unknown;
}

export interface ResourceRequest {
  service_requirements: Record<string, number>;
  sla_target?: SlaTarget;
  [key: string]: unknown;
}

export interface ResourceEstimate {
  recommended_preset: string;
  resources: Resources;
  gpu_type: string;
  estimated_cost: string;
  alternatives: Array<{ preset: string; resources: Resources; cost: string; performance_impact: string }>;
  [key: string]: unknown;
}

export interface ManifestValidation {
  valid: boolean;
  warnings: string[];
  errors: unknown[];
  resource_summary: Record<string, unknown>;
  [key: string]: unknown;
}

export interface DeploymentStatus {
  tenant_id: string;
  deployment_id: string;
  status: string;
  progress: number;
  phase: string;
  [key: string]: unknown;
}

export type Metrics = Record<string, number>;
export interface MetricsSample {
  timestamp?: string;
  metrics: Metrics;
}

export interface MetricsAccepted {
  tenant_id: string;
  accepted: number;
  alerts: Alert[];
  [key: string]: unknown;
}

export interface MonitoringData {
  tenant_id: string;
  time_range: { start: string; end: string };
  metrics: Record<string, Array<{ timestamp: string; value: number }>>;
  summary: Record<string, number>;
  [key: string]: unknown;
}

export interface Alert {
  alert_id: string;
  tenant_id: string;
  severity: 'warning' | 'critical' | string;
  type: string;
  message: string;
  metric: string;
  current_value: number;
  threshold: number;
  timestamp: string;
  [key: string]: unknown;
}

export interface SystemMetrics {
  cluster_status: string;
  total_tenants: number;
  active_tenants: number;
  [key: string]: unknown;
}

export interface MonitoringUpdate {
  timestamp: string;
  tenant_id: string;
  metrics: Record<string, number | null>;
}

export interface DeploymentUpdate {
  deployment_id: string;
  status: string;
  progress: number;
  phase: string;
  message: string;
  [key: string]: unknown;
}

export interface ReconnectPolicy {
  /** Reconnects after abnormal closes; default unlimited. */
  maxRetries?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface StreamEnd {
  code: number;
  reason: string;
  error?: ECPError | Error;
}

export interface StreamOptions {
  onError?: (error: ECPError) => void;
  onOpen?: () => void;
  /** Called once when the stream ends for good (not on unsubscribe()). */
  onClose?: (end: StreamEnd) => void;
  signal?: AbortSignal;
  reconnect?: false | ReconnectPolicy;
}

export interface MonitoringStreamOptions extends StreamOptions {
  metrics?: string[];
  /** Milliseconds between updates (default 5000). */
  interval?: number;
}

export interface FieldDelta {
  field: string;
  before: string | number | null;
  after: string | number | null;
  change: string | null;
}

export interface UpdatePreview {
  tenant_id: string;
  dry_run: true;
  changed: boolean;
  etag: string;
  estimated_cost: { before: string | null; after: string | null };
  replicas: Record<string, { before: number | null; after: number | null }>;
  deltas: FieldDelta[];
  manifest_diff: string;
  diff_truncated: boolean;
  warnings: string[];
}

export interface CompiledResources {
  preset: string | null;
  replicas: Record<string, number>;
  replicas_total: number;
  cpu: string | null;
  cpu_millicores: number | null;
  memory: string | null;
  memory_mib: number | null;
  gpu: number | null;
  monthly_cost_usd: number | null;
  estimated_cost: string | null;
}

export interface HistoryCommit {
  commit: string;
  timestamp: string;
  author: string;
  principal: string | null;
  subject: string;
  action: 'created' | 'changed' | 'removed';
  compiled: boolean;
  resources: CompiledResources | null;
  deltas: FieldDelta[];
}

export interface TenantHistory {
  tenant_id: string;
  source: 'workspace-git' | 'none';
  commits: HistoryCommit[];
  count: number;
  truncated: boolean;
}

export interface AuthConfig {
  token: boolean;
  oidc: { issuer: string; client_id: string; scopes: string[]; bearer: 'id_token' } | null;
}

export type Unsubscribe = () => void;

export declare class ECPClient {
  constructor(config?: ClientConfig);
  readonly baseUrl: string;
  readonly isDemo: boolean;
  readonly lastRequestId: string | undefined;

  getTenants(
    options?: CallOptions & { skip?: number; limit?: number; preset?: string; status?: string },
  ): Promise<TenantList>;
  getTenant(tenantId: string, options?: CallOptions): Promise<Tenant>;
  getTenantEtag(tenantId: string, options?: CallOptions): Promise<string>;
  createTenant(tenant: TenantRequest, options?: CallOptions): Promise<TenantCreated>;
  updateTenant(
    tenantId: string,
    changes: TenantUpdate,
    options?: CallOptions & { ifMatch?: string },
  ): Promise<TenantUpdated>;
  deleteTenant(
    tenantId: string,
    options?: CallOptions & { force?: boolean; ifMatch?: string },
  ): Promise<TenantDeleted>;
  calculateResources(requirements: ResourceRequest, options?: CallOptions): Promise<ResourceEstimate>;
  previewTenantUpdate(
    tenantId: string,
    changes: TenantUpdate,
    options?: CallOptions & { ifMatch?: string },
  ): Promise<UpdatePreview>;
  getTenantHistory(
    tenantId: string,
    options?: CallOptions & { limit?: number },
  ): Promise<TenantHistory>;
  getAuthConfig(options?: CallOptions): Promise<AuthConfig>;

  getManifest(
    tenantId: string,
    options?: CallOptions & {
      format?: 'yaml' | 'json';
      includeMonitoring?: boolean;
      includeIngress?: boolean;
      namespace?: string;
    },
  ): Promise<string>;
  validateManifest(
    manifestContent: string,
    options?: CallOptions & { tenantId?: string },
  ): Promise<ManifestValidation>;
  getDeploymentStatus(tenantId: string, options?: CallOptions): Promise<DeploymentStatus>;

  sendMetrics(
    tenantId: string,
    metrics: Metrics | MetricsSample | MetricsSample[],
    options?: CallOptions & { timestamp?: string },
  ): Promise<MetricsAccepted>;
  getMonitoring(
    tenantId: string,
    options?: CallOptions & { metricType?: string; hours?: number; interval?: string },
  ): Promise<MonitoringData>;
  getAlerts(
    tenantId: string,
    options?: CallOptions & { limit?: number; hours?: number },
  ): Promise<{ tenant_id: string; alerts: Alert[]; [key: string]: unknown }>;
  getSystemMetrics(options?: CallOptions): Promise<SystemMetrics>;

  subscribeToMonitoring(
    tenantId: string,
    onData: (data: MonitoringUpdate) => void,
    options?: MonitoringStreamOptions,
  ): Unsubscribe;
  subscribeToAlerts(
    tenantId: string,
    onAlert: (alert: Alert) => void,
    options?: StreamOptions,
  ): Unsubscribe;
  subscribeToDeployment(
    deploymentId: string,
    onUpdate: (update: DeploymentUpdate) => void,
    options?: StreamOptions,
  ): Unsubscribe;
  wsUrl(path: string): string;
}

export interface ErrorInit {
  code?: string;
  status?: number;
  details?: Record<string, unknown>;
  requestId?: string;
  timestamp?: string;
  cause?: unknown;
}

export declare class ECPError extends Error {
  constructor(message: string, init?: ErrorInit);
  readonly code: string;
  readonly status: number | undefined;
  readonly details: Record<string, unknown>;
  readonly requestId: string | undefined;
  readonly timestamp: string | undefined;
}
export declare class ECPConnectionError extends ECPError {}
export declare class ECPTimeoutError extends ECPConnectionError {}
export declare class BadRequestError extends ECPError {}
export declare class ValidationError extends ECPError {}
export declare class InvalidPresetError extends ValidationError {}
export declare class SlaUnachievableError extends ValidationError {}
export declare class InsufficientResourcesError extends ValidationError {}
export declare class ManifestInvalidError extends ValidationError {}
export declare class UnauthorizedError extends ECPError {}
export declare class ForbiddenError extends ECPError {}
export declare class NotFoundError extends ECPError {}
export declare class TenantNotFoundError extends NotFoundError {}
export declare class DeploymentNotFoundError extends NotFoundError {}
export declare class ConflictError extends ECPError {}
export declare class TenantAlreadyExistsError extends ConflictError {}
export declare class PreconditionFailedError extends ECPError {}
export declare class PayloadTooLargeError extends ECPError {}
export declare class RateLimitedError extends ECPError {}
export declare class ServerError extends ECPError {}
export declare class DeploymentFailedError extends ServerError {}
export declare class MonitoringUnavailableError extends ServerError {}
export declare class DatabaseError extends ServerError {}
export declare class KubernetesError extends ServerError {}

export declare function errorFromResponse(
  status: number,
  body: unknown,
  requestId: string | undefined,
): ECPError;
export declare function statusFromCloseCode(closeCode: number): number;
