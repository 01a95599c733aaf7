// "Sign in with SSO": OpenID Connect authorization code flow with PKCE (RFC 7636, S256) as a
// public client, entirely in the browser. The server only advertises issuer, client_id and
// scopes (GET /api/v1/auth/config) and verifies the resulting ID token as a Bearer (its JWKS).
// Here: discovery, the redirect out (state, nonce and the verifier kept in this tab's
// sessionStorage), and on the way back the state check, the code exchange at the token
// endpoint and the nonce/issuer/audience checks on the ID token's claims.

const PENDING = 'ecp.oidc.pending';

function randomString(bytes) {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return base64url(data);
}

function base64url(data) {
  let text = '';
  for (const byte of new Uint8Array(data)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function challengeOf(verifier) {
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
}

/** The dashboard's own address without query or fragment: where the provider sends us back. */
export function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

async function discover(issuer) {
  const base = issuer.replace(/\/+$/, '');
  const response = await fetch(`${base}/.well-known/openid-configuration`, { credentials: 'omit' });
  if (!response.ok) throw new Error(`discovery answered ${response.status}`);
  const document = await response.json();
  if (document.issuer !== issuer) throw new Error('the discovery document names another issuer');
  if (!document.authorization_endpoint || !document.token_endpoint) {
    throw new Error('the discovery document names no authorization or token endpoint');
  }
  return document;
}

/** Leaves the page for the provider's login; comes back to redirectUri() with ?code&state. */
export async function startSignIn(config, returnTo = '#/') {
  const found = await discover(config.issuer);
  const verifier = randomString(48);
  const pending = {
    verifier,
    state: randomString(24),
    nonce: randomString(24),
    issuer: config.issuer,
    clientId: config.client_id,
    tokenEndpoint: found.token_endpoint,
    redirectUri: redirectUri(),
    returnTo,
  };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(found.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.client_id,
    redirect_uri: pending.redirectUri,
    scope: config.scopes.join(' '),
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/** True when this page load is the provider sending us back. */
export function isCallback(params = new URLSearchParams(location.search)) {
  return params.has('state') && (params.has('code') || params.has('error'));
}

function claimsOf(idToken) {
  const part = String(idToken).split('.')[1];
  if (!part) throw new Error('the ID token is not a JWT');
  const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
}

/**
 * Completes the flow: { token, claims, returnTo }. Throws on a state that is not ours, an error
 * from the provider, a refused exchange, or an ID token that is not for this sign-in.
 * The signature is the server's to check (it has the JWKS); these checks stop a token meant for
 * another sign-in or client from being used here.
 */
export async function finishSignIn(params = new URLSearchParams(location.search)) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING); // one use, whatever happens
  if (!pending || params.get('state') !== pending.state) throw new Error('this sign-in was not started here (state)');
  if (params.get('error')) throw new Error(params.get('error_description') || params.get('error'));
  const response = await fetch(pending.tokenEndpoint, {
    method: 'POST',
    credentials: 'omit',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: pending.redirectUri,
      client_id: pending.clientId,
      code_verifier: pending.verifier,
    }).toString(),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error_description || body.error || `token endpoint answered ${response.status}`);
  if (!body.id_token) throw new Error('the token endpoint answered no id_token');
  const claims = claimsOf(body.id_token);
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.nonce !== pending.nonce) throw new Error('the ID token is not for this sign-in (nonce)');
  if (claims.iss !== pending.issuer) throw new Error('the ID token comes from another issuer');
  if (!audience.includes(pending.clientId)) throw new Error('the ID token is for another client');
  return { token: body.id_token, claims, returnTo: pending.returnTo || '#/' };
}
