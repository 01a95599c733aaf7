// Create and edit a tenant. Server-side validation errors land beside the field their path
// names (details.errors[].field); a 412 (someone else changed the spec since it was loaded)
// is explained with a reload; a 403 is shown and the write buttons go away. An edit is previewed
// first: the server compiles it without writing (POST .../preview) and answers replicas, cost and
// the manifest's unified diff, shown before the second press saves it.

import { clear, h } from './dom.js';
import { t } from './i18n.js';
import { errorBox, fieldErrors } from './errors_view.js';
import { field, readRequirements, requirementsFields, showFieldErrors } from './requirements_fields.js';
import { PreconditionFailedError } from '@ecp-ai/orchestrator-client';
import { diffView } from './diff_view.js';

const PRESETS = ['', 'micro', 'small', 'medium', 'large'];

export async function renderForm(main, { session, navigate }, tenantId) {
  const client = session.client();
  let tenant = null;
  let etag = '';
  if (tenantId) {
    try {
      [tenant, etag] = await Promise.all([client.getTenant(tenantId), client.getTenantEtag(tenantId)]);
    } catch (error) {
      main.append(errorBox(error, session));
      return;
    }
  }
  const applied = tenantId ? takeApplied(tenantId) : null;
  const draft = tenant
    ? { ...tenant, ...(applied ?? {}) }
    : JSON.parse(sessionStorage.getItem('ecp.draft') || 'null') ?? {};
  const text = (value) => h('input', { type: 'text', value: value ?? '' });
  const preset = h('select', {}, PRESETS.map((p) => h('option', { value: p, selected: (draft.preset ?? '') === p }, p || t('preset_auto'))));
  const form = h('form', { class: 'card tenant-form', id: 'tenant-form', novalidate: true },
    tenantId ? null : field('tenant_id', t('tenant_id'), text(draft.tenant_id), t('tenant_id_hint')),
    field('name', t('name'), text(draft.name)),
    field('preset', t('preset'), preset),
    field('description', t('description'), text(draft.description)),
    requirementsFields(draft));
  const message = h('div', { id: 'form-message', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', id: 'tenant-submit' }, tenantId ? t('preview') : t('create'));
  const preview = h('div', { id: 'change-preview', 'aria-live': 'polite' });
  form.append(preview, submit);
  // An edit shows what it changes (replicas, cost, manifest) before it is committed: the first
  // press previews, the second saves; touching any input asks for a fresh preview.
  let previewed = false;
  form.addEventListener('input', () => {
    if (!tenantId || !previewed) return;
    previewed = false;
    submit.textContent = t('preview');
    clear(preview);
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (path) => form.querySelector(`[data-field="${path}"]`)?.value.trim();
    const body = { ...readRequirements(form, Object.keys(tenant?.service_requirements ?? {})), name: value('name') };
    if (value('preset')) body.preset = value('preset');
    if (value('description')) body.description = value('description');
    submit.disabled = true;
    clear(message, h('p', { role: 'status' }, previewed || !tenantId ? t('saving') : t('loading')));
    try {
      if (tenantId && !previewed) {
        const answer = await client.previewTenantUpdate(tenantId, body, { ifMatch: etag });
        clear(preview, changeTable(answer), manifestDiff(answer));
        clear(message);
        previewed = true;
        submit.textContent = t('confirm_save');
        return;
      }
      if (tenantId) {
        const answer = await client.updateTenant(tenantId, body, { ifMatch: etag });
        clear(message, h('p', { class: 'ok', role: 'status', id: 'updated' }, t('updated', { id: answer.tenant_id })));
        [tenant, etag] = await Promise.all([client.getTenant(tenantId), client.getTenantEtag(tenantId)]);
        previewed = false;
        submit.textContent = t('preview');
      } else {
        const answer = await client.createTenant({ tenant_id: value('tenant_id'), ...body });
        sessionStorage.removeItem('ecp.draft');
        clear(message, h('p', { class: 'ok', role: 'status', id: 'created' }, t('created', { id: answer.tenant_id }),
          ' ', h('a', { href: `#/tenant/${answer.tenant_id}` }, answer.tenant_id)));
      }
      showFieldErrors(form, new Map());
    } catch (error) {
      if (error instanceof PreconditionFailedError) {
        clear(message, h('div', { class: 'error', role: 'alert', id: 'conflict' }, t('conflict'), ' ',
          h('button', { type: 'button', onclick: () => navigate(`#/edit/${tenantId}`) }, t('reload'))));
      } else {
        const left = showFieldErrors(form, fieldErrors(error));
        clear(message, errorBox(error, session), left.length ? h('ul', {}, left.map((m) => h('li', {}, m))) : null);
        form.querySelector('[aria-invalid="true"]')?.focus();
      }
    } finally {
      submit.disabled = false;
    }
  });
  main.append(...[h('h1', {}, tenantId ? `${t('edit')}: ${tenantId}` : t('nav_new')),
    applied ? h('p', { class: 'hint', id: 'applied-note' }, t('applied')) : null, form, message].filter(Boolean));
}

/** The calculator's inputs handed to this tenant's edit form ("apply to tenant"), once. */
function takeApplied(tenantId) {
  const handed = JSON.parse(sessionStorage.getItem('ecp.apply') || 'null');
  if (!handed || handed.tenant_id !== tenantId) return null;
  sessionStorage.removeItem('ecp.apply');
  return { service_requirements: handed.service_requirements, sla_target: handed.sla_target };
}

/** Replicas per service and the monthly cost, now (as compiled) against the edit compiled. */
export function changeTable(answer) {
  const row = (label, was, will) => h('tr', { class: was === will ? 'same' : 'changed', 'data-row': label },
    h('th', { scope: 'row' }, label), h('td', { class: 'num' }, was ?? '—'), h('td', { class: 'num' }, will ?? '—'));
  return h('table', { class: 'plan-table', id: 'change-table' },
    h('caption', {}, t('change_preview')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, t('now')), h('th', { scope: 'col' }, t('after')))),
    h('tbody', {},
      Object.entries(answer.replicas).map(([name, r]) => row(`${name} ${t('replicas')}`, r.before, r.after)),
      row(t('monthly_cost'), answer.estimated_cost.before, answer.estimated_cost.after)));
}

function manifestDiff(answer) {
  if (!answer.manifest_diff) return h('p', { class: 'hint', id: 'no-manifest-change' }, t('no_manifest_change'));
  return h('section', { 'aria-labelledby': 'diff-h' },
    h('h3', { id: 'diff-h' }, t('manifest_diff')),
    diffView(answer.manifest_diff, t('manifest_diff')),
    answer.diff_truncated ? h('p', { class: 'hint' }, t('diff_truncated')) : null);
}
