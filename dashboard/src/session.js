// Who is using the dashboard and against what: the token (sessionStorage, this tab only), the
// demo/real mode, and what the token's role may do. Builds the one ECPClient the pages share.
// The API has no "who am I" route yet, so whether writes are allowed is learned by a harmless
// probe (an update of a tenant ID that cannot exist: 403 for a read-only role, 404 otherwise).

import { ECPClient, ForbiddenError, UnauthorizedError } from '@ecp-ai/orchestrator-client';

const PROBE_TENANT = 'ecp-dashboard-role-probe';

export class Session {
  constructor(storage = sessionStorage) {
    this.storage = storage;
  }

  get token() {
    return this.storage.getItem('ecp.token') || '';
  }

  get demo() {
    return this.storage.getItem('ecp.demo') === 'true';
  }

  /** 'write' | 'read' | 'unknown' (not probed yet). */
  get access() {
    return this.storage.getItem(`ecp.access.${this.demo}`) || 'unknown';
  }

  get canWrite() {
    return this.access !== 'read';
  }

  /** Who an SSO sign-in says this is (the ID token's preferred_username); '' for a token. */
  get user() {
    return this.storage.getItem('ecp.user') || '';
  }

  signIn(token, user = '') {
    this.storage.setItem('ecp.token', token.trim());
    if (user) this.storage.setItem('ecp.user', user);
    else this.storage.removeItem('ecp.user');
    this.forgetAccess();
  }

  signOut() {
    this.storage.removeItem('ecp.token');
    this.storage.removeItem('ecp.user');
    this.forgetAccess();
  }

  /** An SSO sign-in that failed on the way back, for the sign-in page to show once. */
  setSsoError(message) {
    this.storage.setItem('ecp.sso.error', message);
  }

  takeSsoError() {
    const message = this.storage.getItem('ecp.sso.error');
    this.storage.removeItem('ecp.sso.error');
    return message;
  }

  setDemo(demo) {
    this.storage.setItem('ecp.demo', String(Boolean(demo)));
  }

  forgetAccess() {
    for (const mode of ['true', 'false']) this.storage.removeItem(`ecp.access.${mode}`);
  }

  /** A write the server refused with 403: stop offering writes in this mode. */
  markReadOnly() {
    this.storage.setItem(`ecp.access.${this.demo}`, 'read');
  }

  /** `debug`: X-Debug on every call, so answers carry their explanation (calculate-resources:
   * the `ecp calc --explain` lines). */
  client({ debug = false } = {}) {
    return new ECPClient({
      baseUrl: `${location.origin}/api/v1`,
      isDemo: this.demo,
      token: this.token || undefined,
      timeout: 120_000,
      debug,
    });
  }

  /** Learns (once per mode and token) whether this caller may write. */
  async probeAccess() {
    if (this.access !== 'unknown') return this.access;
    let access = 'write';
    try {
      await this.client().updateTenant(PROBE_TENANT, { name: 'probe' }, { ifMatch: '"probe"' });
    } catch (error) {
      // 403: a read-only role; 401: no credential yet (or an expired one): nothing to offer.
      if (error instanceof ForbiddenError || error instanceof UnauthorizedError) access = 'read';
    }
    this.storage.setItem(`ecp.access.${this.demo}`, access);
    return access;
  }
}
