// Sign-in: paste a bearer token; it stays in this tab's sessionStorage and is sent by the SDK
// (Authorization on HTTP, ?access_token= on WebSockets).

import { h } from './dom.js';
import { t } from './i18n.js';

export function renderSignIn(main, { session, navigate }) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-hint' });
  const form = h('form', { class: 'card signin' },
    h('h1', {}, t('sign_in')),
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
}
