// The dashboard's shell: header (navigation, real/demo mode, language, sign-in), the demo
// banner, and a hash router that hands <main> to one page at a time. Each page is
// `render(main, ctx)` and may return a cleanup function (streams, timers).

import { clear, h } from './dom.js';
import { LANGUAGES, currentLanguage, setLanguage, t } from './i18n.js';
import { Session } from './session.js';
import { renderOverview } from './overview.js';
import { renderTenant } from './tenant_page.js';
import { renderCalculator } from './calculator.js';
import { renderForm } from './tenant_form.js';
import { renderSignIn } from './signin.js';
import { finishSignIn, isCallback } from './oidc.js';

const session = new Session();
let cleanup = null;

const ROUTES = [
  [/^#\/?$/, (main, ctx) => renderOverview(main, ctx)],
  [/^#\/tenant\/([a-z0-9-]+)$/, (main, ctx, id) => renderTenant(main, ctx, id)],
  [/^#\/calc$/, (main, ctx) => renderCalculator(main, ctx)],
  [/^#\/new$/, (main, ctx) => renderForm(main, ctx, null)],
  [/^#\/edit\/([a-z0-9-]+)$/, (main, ctx, id) => renderForm(main, ctx, id)],
  [/^#\/signin$/, (main, ctx) => renderSignIn(main, ctx)],
];

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderHeader() {
  const lang = currentLanguage();
  document.documentElement.lang = lang;
  document.title = t('title');
  const skip = document.querySelector('.skip');
  skip.textContent = t('skip');
  skip.onclick = (event) => {
    event.preventDefault();
    document.getElementById('main').focus();
  };
  const mode = h(
    'select',
    { id: 'mode-select', 'aria-label': t('mode') },
    h('option', { value: 'false', selected: !session.demo }, t('mode_real')),
    h('option', { value: 'true', selected: session.demo }, t('mode_demo')),
  );
  mode.addEventListener('change', () => {
    session.setDemo(mode.value === 'true');
    refresh();
  });
  const language = h(
    'select',
    { id: 'lang-select', 'aria-label': t('language') },
    LANGUAGES.map((code) => h('option', { value: code, selected: code === lang }, code === 'ko' ? '한국어' : 'English')),
  );
  language.addEventListener('change', () => {
    setLanguage(language.value);
    refresh();
  });
  const who = session.token
    ? [
        h('span', { class: 'who', id: 'who' }, t('signed_in'), session.user ? ` (${session.user})` : '', session.canWrite ? '' : ` · ${t('read_only')}`),
        h('button', { type: 'button', id: 'sign-out', onclick: () => { session.signOut(); navigate('#/signin'); } }, t('sign_out')),
      ]
    : [h('span', { class: 'who', id: 'who' }, t('anonymous')), h('a', { href: '#/signin', class: 'button' }, t('sign_in'))];
  const links = [
    ['#/', t('nav_overview')],
    ['#/calc', t('nav_calculator')],
    ...(session.canWrite ? [['#/new', t('nav_new')]] : []),
  ];
  clear(
    document.getElementById('top'),
    h('a', { href: '#/', class: 'brand' }, t('title')),
    h('nav', { 'aria-label': 'primary' }, h('ul', {}, links.map(([href, text]) => h('li', {}, h('a', { href }, text))))),
    h('div', { class: 'controls' }, mode, language, who),
  );
  document.body.classList.toggle('demo', session.demo);
  const banner = document.getElementById('demo-banner');
  banner.hidden = !session.demo;
  banner.textContent = session.demo ? t('demo_banner') : '';
}

let shown = 0; // which route() call owns the page

/** Each render gets a view of its own inside <main>. A page left while it was still loading
 * (a mode switch renders twice: at once, and again when the role probe answers) then finishes
 * into a detached view, never beside its successor, and its cleanup runs as soon as it exists. */
function route() {
  if (cleanup) cleanup();
  cleanup = null;
  shown += 1;
  const mine = shown;
  renderHeader();
  const view = h('div', { class: 'view' });
  clear(document.getElementById('main'), view);
  const ctx = { session, navigate, refresh };
  for (const [pattern, page] of ROUTES) {
    const match = location.hash.match(pattern) || (location.hash === '' && pattern.test('#/') && ['']);
    if (match) {
      const done = page(view, ctx, ...match.slice(1));
      Promise.resolve(done).then((fn) => {
        if (typeof fn !== 'function') return;
        if (mine === shown) cleanup = fn;
        else fn(); // superseded before it finished: stop its calls and streams now
      });
      return;
    }
  }
  view.append(h('p', {}, t('not_found')));
}

/** Re-renders after a mode, language or access change (the access probe may hide writes). */
function refresh() {
  const before = session.access;
  route();
  session.probeAccess().then((after) => {
    if (after !== before) route();
  });
}

/** Back from the identity provider (?code&state): redeem the code, then drop the query. */
async function completeSso() {
  let hash = '#/signin';
  try {
    const { token, claims, returnTo } = await finishSignIn();
    session.signIn(token, String(claims.preferred_username || claims.email || claims.sub || ''));
    hash = returnTo;
  } catch (error) {
    session.setSsoError(error.message);
  }
  history.replaceState(null, '', `${location.pathname}${hash}`);
}

window.addEventListener('hashchange', route);
(isCallback() ? completeSso() : Promise.resolve())
  .then(() => session.probeAccess())
  .finally(() => route());
