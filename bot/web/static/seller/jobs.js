/**
 * Messages that did not go out: the store's failed jobs, each of which can be tried again.
 *
 *   loadFailedJobs()     the open store's failed jobs
 *   renderFailedJobs()   the table (again, after a language switch)
 *   resetFailedJobs()    the table emptied (a store switch, signing out)
 *   failedJobsShown()    whether the jobs are loaded
 */

import { $, clear, el } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { api, handled, loadForTeamTab, state, storePath } from './console.js';
import { knownText } from './names.js';
import { when } from './versions.js';

const failedJobs = { list: null, busy: null, notice: null };

export function resetFailedJobs() {
  Object.assign(failedJobs, { list: null, busy: null, notice: null });
  clear($('jobs-rows'));
  $('jobs-status').textContent = '';
}

export function failedJobsShown() {
  return !!failedJobs.list;
}

export function loadFailedJobs() {
  return loadForTeamTab('/jobs?status=failed', function (data) {
    failedJobs.list = data.jobs || [];
    renderFailedJobs();
  });
}

export function renderFailedJobs() {
  var rows = $('jobs-rows');
  clear(rows);
  var list = failedJobs.list || [];
  if (!list.length) {
    var empty = el('tr');
    empty.appendChild(el('td', 'empty empty-small', { colspan: 5 }, t('jobs.none')));
    rows.appendChild(empty);
  }
  list.forEach(function (job) {
    var row = el('tr', null, { 'data-testid': 'seller-failed-job', 'data-job': String(job.id) });
    row.appendChild(el('td', null, { id: 'job-' + job.id }, knownText('jobs.kind.', job.kind)));
    var about = [job.order_number, job.tracking_number].filter(Boolean).join(' · ');
    row.appendChild(el('td', 'mono', { translate: 'no' }, about || '—'));
    row.appendChild(el('td', null, { 'data-testid': 'seller-failed-job-reason' }, knownText('jobs.reason.', job.reason)));
    row.appendChild(el('td', null, null, job.failed_at ? when(job.failed_at) : '—'));
    var cell = el('td', 'member-actions');
    var retry = el('button', 'btn btn-small', {
      type: 'button', id: 'job-' + job.id + '-retry', 'aria-labelledby': 'job-' + job.id + '-retry job-' + job.id,
      'data-testid': 'seller-failed-job-retry'
    }, t(failedJobs.busy === job.id ? 'jobs.retrying' : 'jobs.retry'));
    retry.disabled = failedJobs.busy !== null;
    retry.addEventListener('click', function () { retryJob(job); });
    cell.appendChild(retry);
    row.appendChild(cell);
    rows.appendChild(row);
  });
  var status = $('jobs-status');
  status.textContent = failedJobs.notice ? t(failedJobs.notice[0], failedJobs.notice[1]) : '';
}

function retryJob(job) {
  if (failedJobs.busy !== null) return;
  var storeId = state.storeId;
  failedJobs.busy = job.id;
  failedJobs.notice = null;
  renderFailedJobs();
  api.request('POST', storePath('/jobs/' + encodeURIComponent(job.id) + '/retry')).then(function (result) {
    if (storeId !== state.storeId) return;
    failedJobs.busy = null;
    if (handled(result)) { renderFailedJobs(); return; }
    if (result.ok) {
      failedJobs.list = (failedJobs.list || []).filter(function (j) { return j.id !== job.id; });
      failedJobs.notice = ['jobs.retried', {}];
    } else {
      failedJobs.notice = ['jobs.retryFailed', { message: refusalText(result.data) }];
    }
    renderFailedJobs();
  });
}
