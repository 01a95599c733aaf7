// Sign-in: "sign in with SSO" when the server advertises an OIDC issuer (GET /api/v1/auth/config;
// the flow is oidc.js), and always a pasted bearer token. Either credential stays in this tab's
// sessionStorage and is sent by the SDK (Authorization on HTTP, the bearer subprotocol on
// WebSockets).

import { clear, h } from './dom.js';
import { t } from './i18n.js';
import { startSignIn } from './oidc.js';

export function renderSignIn(main, { session, navigate }) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-hint' });
  const sso = h('div', { id: 'sso-slot' });
  const failure = session.takeSsoError();
  const form = h('form', { class: 'card signin' },
    h('h1', {}, t('sign_in')),
    failure ? h('div', { class: 'error', role: 'alert', id: 'sso-error' }, t('sso_failed', { message: failure })) : null,
    sso,
    h('label', { for: 'token' }, t('token')),
    input,
    h('p', { id: 'token-hint', class: 'hint' }, t('token_hint')),
    h('button', { type: 'submit', id: 'sign-in-submit' }, t('sign_in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    session.signIn(input.value);
    await session.probeAccess();
    navigate('#/');
  });
  main.append(form);
  input.focus();
  session.client().getAuthConfig()
    .then(({ oidc }) => {
      if (!oidc) return;
      const button = h('button', { type: 'button', id: 'sso-sign-in', 'aria-describedby': 'sso-hint' }, t('sso'));
      button.addEventListener('click', () => {
        button.disabled = true;
        startSignIn(oidc).catch((error) => {
          button.disabled = false;
          button.after(h('div', { class: 'error', role: 'alert' }, t('sso_failed', { message: error.message })));
        });
      });
      clear(sso, h('div', { class: 'sso' }, button, h('p', { id: 'sso-hint', class: 'hint' }, t('sso_hint', { issuer: oidc.issuer }))),
        h('p', { class: 'hint' }, t('or_token')));
    })
    .catch(() => {}); // a server without the route: token sign-in only
}
