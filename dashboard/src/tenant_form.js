// Create and edit a tenant. Server-side validation errors land beside the field their path
// names (details.errors[].field); a 412 (someone else changed the spec since it was loaded)
// is explained with a reload; a 403 is shown and the write buttons go away.

import { clear, h } from './dom.js';
import { t } from './i18n.js';
import { errorBox, fieldErrors } from './errors_view.js';
import { field, readRequirements, requirementsFields, showFieldErrors } from './requirements_fields.js';
import { PreconditionFailedError } from '@ecp-ai/orchestrator-client';

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
  const draft = tenant ?? JSON.parse(sessionStorage.getItem('ecp.draft') || 'null') ?? {};
  const text = (value) => h('input', { type: 'text', value: value ?? '' });
  const preset = h('select', {}, PRESETS.map((p) => h('option', { value: p, selected: (draft.preset ?? '') === p }, p || t('preset_auto'))));
  const form = h('form', { class: 'card tenant-form', id: 'tenant-form', novalidate: true },
    tenantId ? null : field('tenant_id', t('tenant_id'), text(draft.tenant_id), t('tenant_id_hint')),
    field('name', t('name'), text(draft.name)),
    field('preset', t('preset'), preset),
    field('description', t('description'), text(draft.description)),
    requirementsFields(draft));
  const message = h('div', { id: 'form-message', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', id: 'tenant-submit' }, tenantId ? t('save') : t('create'));
  form.append(submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (path) => form.querySelector(`[data-field="${path}"]`)?.value.trim();
    const body = { ...readRequirements(form), name: value('name') };
    if (value('preset')) body.preset = value('preset');
    if (value('description')) body.description = value('description');
    submit.disabled = true;
    clear(message, h('p', { role: 'status' }, t('saving')));
    try {
      if (tenantId) {
        const answer = await client.updateTenant(tenantId, body, { ifMatch: etag });
        clear(message, h('p', { class: 'ok', role: 'status' }, t('updated', { id: answer.tenant_id })));
        etag = await client.getTenantEtag(tenantId);
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
  main.append(h('h1', {}, tenantId ? `${t('edit')}: ${tenantId}` : t('nav_new')), form, message);
}
