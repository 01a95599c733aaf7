// What-if calculator: channels and SLA in, a debounced calculate-resources call, the plan,
// cost and alternatives out; "create tenant" carries the inputs to the form. Only the newest
// answer is drawn (older calls are aborted), so fast typing never shows a stale plan.

import { clear, debounce, h } from './dom.js';
import { t } from './i18n.js';
import { errorBox, fieldErrors } from './errors_view.js';
import { planView } from './plan_view.js';
import { readRequirements, requirementsFields, showFieldErrors } from './requirements_fields.js';

export const DEBOUNCE_MS = 300;
const START = { service_requirements: { callbot: 10, chatbot: 20, stt: 10, tts: 10 }, sla_target: { availability: '99.9%', response_time: '300ms' } };

export function renderCalculator(main, { session, navigate }) {
  const client = session.client();
  const inputs = requirementsFields(JSON.parse(sessionStorage.getItem('ecp.calc') || 'null') ?? START);
  const result = h('div', { id: 'calc-result', 'aria-live': 'polite' });
  const problems = h('div', {});
  let controller = null;
  let calls = 0;

  async function calculate() {
    controller?.abort();
    const mine = (controller = new AbortController());
    const request = readRequirements(inputs);
    sessionStorage.setItem('ecp.calc', JSON.stringify(request));
    result.setAttribute('aria-busy', 'true');
    try {
      const answer = await client.calculateResources(request, { signal: mine.signal });
      showFieldErrors(inputs, new Map());
      clear(problems);
      calls += 1;
      result.dataset.calls = String(calls);
      clear(result, planView(answer));
    } catch (error) {
      if (mine.signal.aborted) return;
      const left = showFieldErrors(inputs, fieldErrors(error));
      clear(problems, errorBox(error, session), left.length ? h('ul', {}, left.map((m) => h('li', {}, m))) : null);
    } finally {
      result.removeAttribute('aria-busy');
    }
  }

  const later = debounce(calculate, DEBOUNCE_MS);
  inputs.addEventListener('input', later);
  main.append(
    h('h1', {}, t('nav_calculator')),
    h('p', { class: 'hint' }, t('calc_hint')),
    h('form', { class: 'calc', onsubmit: (e) => { e.preventDefault(); calculate(); } }, inputs,
      session.canWrite
        ? h('button', { type: 'button', id: 'create-from-calc', onclick: () => {
            sessionStorage.setItem('ecp.draft', JSON.stringify(readRequirements(inputs)));
            navigate('#/new');
          } }, t('create_from'))
        : null),
    session.canWrite ? applyControl() : null,
    problems,
    result);
  calculate();

  function applyControl() {
    const choice = h('select', { id: 'apply-tenant' });
    client.getTenants({ limit: 1000 })
      .then((list) => choice.append(...list.tenants.map((tenant) => h('option', { value: tenant.tenant_id }, tenant.tenant_id))))
      .catch(() => {});
    return h('div', { class: 'apply' },
      h('label', { for: 'apply-tenant' }, t('apply_to')), ' ', choice, ' ',
      h('button', { type: 'button', id: 'apply-to-tenant', onclick: () => {
        if (!choice.value) return;
        sessionStorage.setItem('ecp.apply', JSON.stringify({ tenant_id: choice.value, ...readRequirements(inputs) }));
        navigate(`#/edit/${choice.value}`);
      } }, t('apply_to')));
  }
  return () => controller?.abort();
}
