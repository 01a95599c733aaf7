// Typed errors of the ECP-AI Orchestrator API: one ECPError subclass per error code of the
// reference. Input: an HTTP status (or a WebSocket close code) and the reference's error body.
// Output: the most specific ECPError. No I/O here.

/** An error answer from the API: code, message, details, requestId, status. */
export class ECPError extends Error {
  constructor(message, { code = 'UNKNOWN', status, details, requestId, timestamp, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details && typeof details === 'object' ? { ...details } : {};
    this.requestId = requestId;
    this.timestamp = timestamp;
  }

  toString() {
    const rid = this.requestId ? ` (request ${this.requestId})` : '';
    return `${this.name}: ${this.code}: ${this.message}${rid}`;
  }
}

/** The server could not be reached (DNS, refused connection, reset). */
export class ECPConnectionError extends ECPError {}
/** The call did not finish within its timeout. */
export class ECPTimeoutError extends ECPConnectionError {}

export class BadRequestError extends ECPError {}
/** 422: a body or parameter failed validation; details.errors lists field paths. */
export class ValidationError extends ECPError {}
export class InvalidPresetError extends ValidationError {}
export class SlaUnachievableError extends ValidationError {}
export class InsufficientResourcesError extends ValidationError {}
export class ManifestInvalidError extends ValidationError {}
export class UnauthorizedError extends ECPError {}
export class ForbiddenError extends ECPError {}
export class NotFoundError extends ECPError {}
export class TenantNotFoundError extends NotFoundError {}
export class DeploymentNotFoundError extends NotFoundError {}
export class ConflictError extends ECPError {}
export class TenantAlreadyExistsError extends ConflictError {}
/** 412: If-Match named a version of the spec that is no longer current. */
export class PreconditionFailedError extends ECPError {}
export class PayloadTooLargeError extends ECPError {}
export class RateLimitedError extends ECPError {}
export class ServerError extends ECPError {}
export class DeploymentFailedError extends ServerError {}
export class MonitoringUnavailableError extends ServerError {}
export class DatabaseError extends ServerError {}
export class KubernetesError extends ServerError {}

const BY_CODE = {
  BAD_REQUEST: BadRequestError,
  VALIDATION_ERROR: ValidationError,
  INVALID_PRESET: InvalidPresetError,
  SLA_UNACHIEVABLE: SlaUnachievableError,
  INSUFFICIENT_RESOURCES: InsufficientResourcesError,
  MANIFEST_INVALID: ManifestInvalidError,
  UNAUTHORIZED: UnauthorizedError,
  FORBIDDEN: ForbiddenError,
  NOT_FOUND: NotFoundError,
  TENANT_NOT_FOUND: TenantNotFoundError,
  DEPLOYMENT_NOT_FOUND: DeploymentNotFoundError,
  CONFLICT: ConflictError,
  TENANT_ALREADY_EXISTS: TenantAlreadyExistsError,
  PRECONDITION_FAILED: PreconditionFailedError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  RATE_LIMITED: RateLimitedError,
  DEPLOYMENT_FAILED: DeploymentFailedError,
  MONITORING_UNAVAILABLE: MonitoringUnavailableError,
  DATABASE_ERROR: DatabaseError,
  KUBERNETES_ERROR: KubernetesError,
};

const BY_STATUS = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  412: PreconditionFailedError,
  413: PayloadTooLargeError,
  422: ValidationError,
  429: RateLimitedError,
};

function classFor(status, code) {
  if (code && Object.hasOwn(BY_CODE, code)) return BY_CODE[code];
  if (Object.hasOwn(BY_STATUS, status)) return BY_STATUS[status];
  return status >= 500 ? ServerError : ECPError;
}

/**
 * The typed error for an error answer. Any body shape is tolerated: a body that is not the
 * reference's {error: {...}} still gives an error classed by its status.
 */
export function errorFromResponse(status, body, requestId) {
  const error = body && typeof body === 'object' ? body.error : undefined;
  if (!error || typeof error !== 'object') {
    const Class = classFor(status, undefined);
    return new Class(`HTTP ${status}`, { code: `HTTP_${status}`, status, requestId });
  }
  const code = typeof error.code === 'string' ? error.code : `HTTP_${status}`;
  const Class = classFor(status, code);
  return new Class(String(error.message ?? ''), {
    code,
    status,
    details: error.details,
    requestId: error.request_id || requestId || undefined,
    timestamp: error.timestamp,
  });
}

/** The HTTP status a WebSocket close code stands for (the server closes with 4000 + status). */
export function statusFromCloseCode(closeCode) {
  return closeCode >= 4000 && closeCode < 5000 ? closeCode - 4000 : 500;
}
