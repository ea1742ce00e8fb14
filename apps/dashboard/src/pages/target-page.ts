import {
  type DrillOfBackup,
  drillStatus,
  humanBytes,
  humanDuration,
  type Manifest,
} from '@pgbackup/backup-core';
import { replicaAckTimeoutMs } from '@pgbackup/queue';
import { actionRefusal } from '../actions/availability.js';
import type { Principal } from '../auth/basic-auth.js';
import { backupState, healthText, type TargetStatus } from '../catalog-status.js';
import type { DashboardPaths } from '../paths.js';
import { utcTime } from './format.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { type ChartPoint, lineChart } from './svg-chart.js';
import { type UnlistedDestination, unlistedSection } from './unlisted-destinations.js';

/** The three actions an operator can take from a target's page. */
export const targetActions = {
  backup: 'Back up now',
  verify: 'Verify now',
  drill: 'Drill now',
} as const;
export type TargetAction = keyof typeof targetActions;

export interface FailedJobView {
  id: string;
  name: string;
  failedReason: string;
  finishedOn: number | undefined;
  attemptsMade: number;
}

export interface TargetPageView {
  paths: DashboardPaths;
  principal: Principal;
  now: Date;
  status: TargetStatus;
  /** The target's manifests, newest first (readCatalog: with retention 0, the buckets' too). */
  manifests: Manifest[];
  /** Destinations the catalog could not list (their backups are missing from `manifests`). */
  unlisted?: readonly UnlistedDestination[] | undefined;
  /** Undefined when the queue could not be read (Redis away): said on the page. */
  failedJobs: FailedJobView[] | undefined;
  /** The form token of this principal (operators only). */
  csrfToken: string | undefined;
  /** Why an operator sees no buttons (the form secret lives in Redis, which is away). */
  actionsUnavailable?: string | undefined;
  /**
   * After an action: which one, the job it enqueued (or joined), and, behind Sentinel, whether no
   * replica confirmed it (`unreplicated`: it is on the primary only).
   */
  notice?: { action: TargetAction; jobId: string; unreplicated?: boolean } | undefined;
}

/** A backup smaller than half the previous one stands out on the size chart. */
const SIZE_DROP_RATIO = 0.5;

function sizePoints(manifests: readonly Manifest[]): ChartPoint[] {
  const oldestFirst = [...manifests].reverse();
  return oldestFirst.map((manifest, index) => {
    const previous = oldestFirst[index - 1];
    return {
      at: Date.parse(manifest.createdAt),
      value: manifest.sizeBytes,
      id: manifest.id,
      flagged:
        manifest.status === 'suspicious' ||
        (previous !== undefined && manifest.sizeBytes < previous.sizeBytes * SIZE_DROP_RATIO),
      label: manifest.id,
    };
  });
}

function durationPoints(manifests: readonly Manifest[]): ChartPoint[] {
  return manifests.map((manifest) => ({
    at: Date.parse(manifest.createdAt),
    value: manifest.durationMs,
    id: manifest.id,
    label: manifest.id,
  }));
}

function restorePoints(drills: readonly DrillOfBackup[]): ChartPoint[] {
  return drills.map((drill) => ({
    at: Date.parse(drill.at),
    value: drill.restoreMs,
    id: `${drill.backupId}@${drill.at}`,
    flagged: !drill.ok,
    label: `${drill.ok ? 'drill' : 'FAILED drill'} of ${drill.backupId}`,
  }));
}

function actions(view: TargetPageView): SafeHtml | '' {
  // Viewers get no buttons (and a 403 if they post anyway, roles.ts).
  if (view.principal.role !== 'operator' || !view.status.config) return '';
  if (view.csrfToken === undefined) {
    return view.actionsUnavailable
      ? html`<p class="notice" id="actions-unavailable" role="status">Actions are unavailable: ${view.actionsUnavailable}</p>`
      : '';
  }
  const config = view.status.config;
  const form = (
    action: TargetAction,
    disabledReason = actionRefusal(config, action, view.manifests.length > 0),
  ) =>
    html`<form method="post" action="${view.paths.targetAction(view.status.target, action)}" class="action">
  <input type="hidden" name="csrf" value="${view.csrfToken}">
  <button type="submit" name="action" value="${action}"${disabledReason ? html` disabled title="${disabledReason}"` : ''}>${targetActions[action]}</button>
</form>`;
  return html`<section id="actions" class="actions">
${form('backup')}
${form('verify')}
${form('drill')}
</section>`;
}

function notice(view: TargetPageView): SafeHtml | '' {
  if (!view.notice) return '';
  const what = { backup: 'Backup', verify: 'Verification', drill: 'Drill' }[view.notice.action];
  const enqueued = html`<p class="notice" id="notice" role="status">${what} job <a href="${view.paths.job(view.notice.jobId)}">${view.notice.jobId}</a> enqueued. This page shows its result once it is done: reload it.</p>`;
  if (!view.notice.unreplicated) return enqueued;
  // backupctl's warning (confirmReplicated), in the dashboard's words for where to check.
  return html`${enqueued}
<p class="notice warning" id="notice-unreplicated" role="alert">Warning: no replica confirmed the job within ${replicaAckTimeoutMs / 1000} s: it is on the Redis primary only, and a failover now would lose it. Check that the job is still there after the failover (its link above, or <code>backupctl jobs</code>), and enqueue it again if it is missing.</p>`;
}

function backupRows(view: TargetPageView): SafeHtml {
  if (view.manifests.length === 0)
    return (view.unlisted ?? []).length > 0
      ? html`<div class="empty">No backup found, but the catalog is incomplete (see above).</div>`
      : html`<div class="empty">No backup in the catalog.</div>`;
  return html`<table id="target-backups">
<thead><tr><th>Backup id</th><th>Taken</th><th>Size</th><th>Dump</th><th>State</th><th>Copies</th><th>Drills</th></tr></thead>
<tbody>${view.manifests.map((manifest) => {
    const state = backupState(manifest);
    const drills = manifest.drills ?? [];
    const lastDrill = drills.at(-1);
    return html`<tr data-backup-id="${manifest.id}" data-state="${state}">
  <td><code>${manifest.id}</code></td>
  <td>${utcTime(manifest.createdAt)}<div class="muted">${humanDuration(view.now.getTime() - Date.parse(manifest.createdAt))} ago</div></td>
  <td class="num" title="${manifest.sizeBytes} bytes">${humanBytes(manifest.sizeBytes)}</td>
  <td class="num">${humanDuration(manifest.durationMs)}</td>
  <td><span class="badge ${state === 'verified' ? 'ok' : state === 'unverified' ? 'warn' : 'bad'}">${state}</span></td>
  <td>${(manifest.copies ?? []).length === 0 ? html`<span class="muted">none</span>` : (manifest.copies ?? []).map((copy) => html`<div><code>${copy.destination}</code> <span class="muted">${utcTime(copy.confirmedAt)}</span></div>`)}</td>
  <td>${lastDrill ? html`<span class="badge ${lastDrill.ok ? 'ok' : 'bad'}">${lastDrill.ok ? 'restored' : 'failed'}</span> <span class="muted">${drills.length} drill(s)</span>` : html`<span class="muted">none</span>`}</td>
</tr>`;
  })}</tbody>
</table>`;
}

function drillRows(drills: readonly DrillOfBackup[]): SafeHtml {
  if (drills.length === 0) return html`<div class="empty">No restore drill yet.</div>`;
  return html`<table id="target-drills">
<thead><tr><th>Ended</th><th>Backup</th><th>Outcome</th><th>Restore (RTO)</th><th>Backup age (RPO)</th><th>Size</th><th>Tables</th><th>Drill server</th></tr></thead>
<tbody>${[...drills].reverse().map(
    (drill) => html`<tr data-drill-of="${drill.backupId}" data-ok="${drill.ok ? 'true' : 'false'}">
  <td>${utcTime(drill.at)}</td>
  <td><code>${drill.backupId}</code></td>
  <td>${drill.ok ? html`<span class="badge ok">restored</span>` : html`<span class="badge bad">failed</span> <code>${drill.errorCode ?? ''}</code><div class="muted">${drill.message ?? ''}</div>`}</td>
  <td class="num">${humanDuration(drill.restoreMs)}${drill.destination ? html`<div class="muted">downloaded from ${drill.destination} in ${humanDuration(drill.downloadMs ?? 0)}</div>` : ''}</td>
  <td class="num">${humanDuration(drill.backupAgeMs)}</td>
  <td class="num">${humanBytes(drill.bytes)}</td>
  <td class="num">${drill.tables}</td>
  <td><code>${drill.server}</code>${drill.walLevel ? html`<div class="muted">wal_level ${drill.walLevel}</div>` : ''}</td>
</tr>`,
  )}</tbody>
</table>`;
}

function failedRows(view: TargetPageView): SafeHtml {
  if (view.failedJobs === undefined)
    return html`<div class="empty">The queue could not be read (Redis unavailable).</div>`;
  if (view.failedJobs.length === 0) return html`<div class="empty">No failed job.</div>`;
  return html`<table id="target-failed-jobs">
<thead><tr><th>Job</th><th>Kind</th><th>Failed</th><th>Attempts</th><th>Reason</th></tr></thead>
<tbody>${view.failedJobs.map(
    (job) => html`<tr data-job-id="${job.id}">
  <td><a href="${view.paths.job(job.id)}">${job.id}</a></td>
  <td>${job.name}</td>
  <td>${job.finishedOn ? utcTime(new Date(job.finishedOn)) : '-'}</td>
  <td class="num">${job.attemptsMade}</td>
  <td><code>${job.failedReason}</code></td>
</tr>`,
  )}</tbody>
</table>`;
}

export function renderTargetPage(view: TargetPageView): string {
  const { status } = view;
  const drills = drillStatus(view.manifests);
  const ms = (value: number) => humanDuration(value);
  const body = html`
<p><a href="${view.paths.backups}">All targets</a></p>
<h2>Target <code>${status.target}</code> <span class="badge ${status.health === 'ok' ? 'ok' : 'bad'}" id="target-health">${healthText(status)}</span></h2>
${status.config ? html`<p class="muted"><code>${status.config.displayUrl}</code> · dumps <code>${status.config.schedule}</code> · drills ${status.config.drill.server ? html`<code>${status.config.drill.schedule}</code>` : 'off (no drill server)'} · ${status.config.timeZone}</p>` : html`<p class="muted">Not in the configuration: backups on disk only.</p>`}
${unlistedSection(view.unlisted ?? [])}
${notice(view)}
${actions(view)}
<h2>Over time</h2>
<div class="charts">
${lineChart({ id: 'chart-size', title: 'Backup size', points: sizePoints(view.manifests), format: humanBytes })}
${lineChart({ id: 'chart-dump', title: 'Dump duration', points: durationPoints(view.manifests), format: ms })}
${lineChart({ id: 'chart-restore', title: 'Restore duration (drills)', points: restorePoints(drills.history), format: ms })}
</div>
<h2>Backups <span class="muted">(${view.manifests.length}, newest first)</span></h2>
${backupRows(view)}
<h2>Restore drills</h2>
${drillRows(drills.history)}
<h2>Failed jobs</h2>
${failedRows(view)}
<p class="muted">Generated ${utcTime(view.now)}.</p>
`;
  return layout({
    title: `Target ${status.target}`,
    paths: view.paths,
    principal: view.principal,
    current: 'backups',
    body,
  }).text;
}
