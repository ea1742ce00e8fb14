import {
  type Catalog,
  type CatalogBackup,
  humanBytes,
  humanDuration,
  type Manifest,
  verificationState,
} from '@pgbackup/backup-core';
import type { Principal } from '../auth/basic-auth.js';
import { unlistedDestinations } from '../catalog.js';
import { backupState, healthText, type TargetStatus } from '../catalog-status.js';
import type { DashboardPaths } from '../paths.js';
import { utcTime } from './format.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { unlistedSection } from './unlisted-destinations.js';

export interface BackupsPageView {
  paths: DashboardPaths;
  principal: Principal;
  now: Date;
  /** Every target, whatever the filter, so the summary always shows the whole picture. */
  statuses: TargetStatus[];
  /** The catalog (readCatalog), its backups already filtered by `target` when one is given. */
  catalog: Catalog;
  target: string | undefined;
  /** Which page of the catalog table, 1 (the newest) and up. */
  page: number;
}

/**
 * Rows of the catalog table per page. A fleet of 500 databases keeping 30 backups each has 15,000:
 * one page of them all is 600 KB of HTML that no one reads past the first screens, and the
 * summary above already answers "is every target backed up".
 */
export const CATALOG_PAGE_SIZE = 200;

const healthClass = { ok: 'ok', stale: 'bad', missing: 'bad', failing: 'bad', unmonitored: 'warn' } as const;

function summaryRow(status: TargetStatus, view: BackupsPageView): SafeHtml {
  const { config, lastVerified, verifiedAgeMs, health } = status;
  const { stale } = status;
  return html`<tr class="${stale ? 'stale' : ''}" data-target="${status.target}" data-health="${health}">
  <td><a href="${view.paths.backupsOf(status.target)}">${status.target}</a> <a class="muted" href="${view.paths.target(status.target)}">page</a>
    ${config ? html`<div class="muted"><code>${config.displayUrl}</code></div>` : ''}</td>
  <td>${config ? html`<code>${config.schedule}</code> <span class="muted">${config.timeZone}</span>` : html`<span class="muted">-</span>`}</td>
  <td>${lastVerified ? html`<code>${lastVerified.id}</code><div class="muted">${utcTime(lastVerified.createdAt)}</div>` : html`<span class="muted">none</span>`}</td>
  <td class="age">${verifiedAgeMs === undefined ? '-' : humanDuration(verifiedAgeMs)}</td>
  <td>${config ? humanDuration(config.maxAgeMs) : '-'}</td>
  <td class="num">${status.counts.verified} / ${Object.values(status.counts).reduce((a, b) => a + b, 0)}</td>
  <td><span class="badge ${status.inGrace ? 'warn' : healthClass[health]}">${healthText(status)}${status.inGrace ? ' (new target)' : ''}</span></td>
</tr>`;
}

function verificationCell(manifest: Manifest): SafeHtml {
  const state = verificationState(manifest);
  if (state.state === 'unverified') {
    const latest = manifest.verifications.at(-1);
    // A suspicious backup may have passed a check and still not count: say both.
    return latest
      ? html`<span class="badge warn">not counted</span> <span class="muted">${latest.level} passed</span>`
      : html`<span class="badge warn">unverified</span>`;
  }
  if (state.state === 'failed') {
    return html`<span class="badge bad">failed</span> ${state.level}
      ${state.errorCode ? html`<code>${state.errorCode}</code>` : ''}
      <div class="muted">${utcTime(state.at)}</div>`;
  }
  return html`<span class="badge ok">verified</span> ${state.level}<div class="muted">${utcTime(state.at)}</div>`;
}

function catalogRow(backup: CatalogBackup, view: BackupsPageView): SafeHtml {
  const { manifest } = backup;
  const suspicious = manifest.status === 'suspicious';
  return html`<tr data-backup-id="${manifest.id}" data-state="${backupState(manifest)}">
  <td><code>${manifest.id}</code></td>
  <td><a href="${view.paths.backupsOf(manifest.target)}">${manifest.target}</a></td>
  <td>${utcTime(manifest.createdAt)}<div class="muted">${humanDuration(view.now.getTime() - Date.parse(manifest.createdAt))} ago</div></td>
  <td class="num" title="${manifest.sizeBytes} bytes">${humanBytes(manifest.sizeBytes)}</td>
  <td>${manifest.compression}</td>
  <td>${manifest.encryption ? html`yes <span class="muted">key <code>${manifest.encryption.keyId}</code></span>` : html`<span class="muted">no</span>`}</td>
  <td>${verificationCell(manifest)}</td>
  <td>${
    suspicious
      ? html`<span class="badge bad" title="${manifest.suspicionReason ?? ''}">suspicious</span>${manifest.suspicionReason ? html`<div class="muted">${manifest.suspicionReason}</div>` : ''}`
      : html`<span class="badge ok">complete</span>`
  }</td>
  <td>${manifest.jobId ? html`<a href="${view.paths.job(manifest.jobId)}">job ${manifest.jobId}</a>` : html`<span class="muted">manual</span>`}</td>
  <td class="where">${whereCell(backup)}</td>
</tr>`;
}

/** Where the backup lives: this disk (when it holds it), and each destination holding a confirmed copy. */
function whereCell(backup: CatalogBackup): SafeHtml {
  const places = [
    ...(backup.local ? [html`local`] : []),
    ...(backup.manifest.copies ?? []).map(
      (copy) =>
        html`<span title="s3://${copy.bucket}/${copy.key}, confirmed ${utcTime(copy.confirmedAt)}">${copy.destination}</span>`,
    ),
  ];
  return html`${places.map((place, index) => html`${index > 0 ? ', ' : ''}${place}`)}`;
}

function filters(view: BackupsPageView): SafeHtml {
  const link = (label: string, href: string, current: boolean) =>
    html`<a href="${href}" aria-current="${current ? 'true' : 'false'}">${label}</a>`;
  return html`<p class="filters">Show:
  ${link('all targets', view.paths.backups, view.target === undefined)}
  ${view.statuses.map((status) => link(status.target, view.paths.backupsOf(status.target), view.target === status.target))}
</p>`;
}

function problems(view: BackupsPageView): SafeHtml | '' {
  const unreadable = view.catalog.problems;
  if (unreadable.length === 0) return '';
  return html`<section class="problems" id="catalog-problems">
  <h2>${unreadable.length} manifest(s) could not be read</h2>
  <p>These manifests are not counted as backups until they are fixed or removed.</p>
  <ul>${unreadable.map((problem) => html`<li><code>${problem.where}</code>: ${problem.message}</li>`)}</ul>
</section>`;
}

/** "Showing 201–400 of 15,000" with links to the newer and older pages. */
function pager(view: BackupsPageView, total: number, pages: number): SafeHtml | '' {
  if (pages <= 1) return '';
  const first = (view.page - 1) * CATALOG_PAGE_SIZE + 1;
  const last = Math.min(view.page * CATALOG_PAGE_SIZE, total);
  const link = (page: number, label: string, rel: string) =>
    html`<a href="${view.paths.backupsPage(view.target, page)}" rel="${rel}">${label}</a>`;
  return html`<p class="pager">
  ${view.page > 1 ? html`${link(1, 'newest', 'first')} ${link(Math.min(view.page - 1, pages), '← newer', 'prev')}` : ''}
  <span>${first > total ? 'none' : html`${first.toLocaleString('en-US')}–${last.toLocaleString('en-US')}`} of ${total.toLocaleString('en-US')} (page ${view.page} of ${pages})</span>
  ${view.page < pages ? html`${link(view.page + 1, 'older →', 'next')} ${link(pages, 'oldest', 'last')}` : ''}
</p>`;
}

export function renderBackupsPage(view: BackupsPageView): string {
  const all = view.catalog.backups;
  const pages = Math.max(1, Math.ceil(all.length / CATALOG_PAGE_SIZE));
  const entries = all.slice((view.page - 1) * CATALOG_PAGE_SIZE, view.page * CATALOG_PAGE_SIZE);
  const incomplete = unlistedDestinations(view.catalog);
  const body = html`
${unlistedSection(incomplete)}
${problems(view)}
<h2>Targets</h2>
${
  view.statuses.length === 0
    ? html`<div class="empty">No target is configured and no backup is on disk yet.</div>`
    : html`<table id="targets">
  <thead><tr><th>Target</th><th>Schedule</th><th>Last verified backup</th><th>Age</th><th>Max age</th><th>Verified / all</th><th>State</th></tr></thead>
  <tbody>${view.statuses.map((status) => summaryRow(status, view))}</tbody>
</table>`
}
<h2>Catalog${view.target ? html` of <code>${view.target}</code>` : ''} <span class="muted">(${all.length} backup${all.length === 1 ? '' : 's'}, newest first)</span></h2>
${filters(view)}
${pager(view, all.length, pages)}
${
  entries.length === 0 && all.length > 0
    ? // A page that pruning emptied since its link was made: not an error.
      html`<div class="empty">Page ${view.page} is past the end: the catalog has ${pages} page${pages === 1 ? '' : 's'} now. <a href="${view.paths.backupsPage(view.target, 1)}">Newest backups</a>.</div>`
    : entries.length === 0
      ? incomplete.length > 0
        ? html`<div class="empty">No backup found${view.target ? html` of <code>${view.target}</code>` : ''}, but the catalog is incomplete (see above).</div>`
        : html`<div class="empty">No backup${view.target ? html` of <code>${view.target}</code>` : ''} ${view.catalog.source === 'union' ? 'on disk or in the destinations' : 'on disk'}.</div>`
      : html`<table id="catalog">
  <thead><tr><th>Backup id</th><th>Target</th><th>Taken</th><th>Size</th><th>Compression</th><th>Encryption</th><th>Verification</th><th>Status</th><th>Job</th><th>Where</th></tr></thead>
  <tbody>${entries.map((entry) => catalogRow(entry, view))}</tbody>
</table>
${pager(view, all.length, pages)}`
}
<p class="muted">Generated ${utcTime(view.now)}. Failed and running jobs are in the <a href="${view.paths.board}">queue</a>.</p>
`;
  return layout({ title: 'Backups', paths: view.paths, principal: view.principal, current: 'backups', body })
    .text;
}
