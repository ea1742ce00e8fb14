import type { Principal } from '../auth/basic-auth.js';
import type { DashboardPaths } from '../paths.js';
import { html, type SafeHtml, trustedHtml } from './html.js';

// Inline: the page needs no build step and no extra request; the CSP allows inline styles
// anyway for Bull Board's sake (see security-headers.ts).
const styles = `
:root { color-scheme: light; --red: #b42318; --red-bg: #fef3f2; --green: #067647; --green-bg: #ecfdf3;
  --amber: #b54708; --amber-bg: #fffaeb; --grey: #475467; --line: #eaecf0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #101828; background: #f9fafb; }
header { display: flex; align-items: center; gap: 24px; padding: 12px 24px; background: #101828; color: #fff; }
header h1 { font-size: 16px; margin: 0; }
header nav a { color: #d0d5dd; margin-right: 16px; text-decoration: none; }
header nav a[aria-current="page"] { color: #fff; font-weight: 600; }
header .who { margin-left: auto; color: #98a2b3; font-size: 13px; }
main { padding: 16px 24px 40px; }
h2 { font-size: 15px; margin: 24px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--grey); background: #f2f4f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.ok { color: var(--green); background: var(--green-bg); }
.bad { color: var(--red); background: var(--red-bg); }
.warn { color: var(--amber); background: var(--amber-bg); }
.muted { color: var(--grey); }
tr.stale td.age { color: var(--red); font-weight: 600; }
.filters a { margin-right: 10px; }
.pager a { margin: 0 6px; }
.filters a[aria-current="true"] { font-weight: 700; text-decoration: none; color: #101828; }
.problems { border: 1px solid var(--red); background: var(--red-bg); padding: 8px 16px; margin-top: 16px; }
.problems h2 { color: var(--red); margin-top: 4px; }
.empty { padding: 16px; background: #fff; border: 1px dashed var(--line); color: var(--grey); }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { margin: 0; padding: 8px; background: #fff; border: 1px solid var(--line); }
.chart figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
.actions { display: flex; gap: 8px; margin: 8px 0 16px; }
.actions form { margin: 0; }
.actions button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #1570ef; background: #1570ef; color: #fff; cursor: pointer; }
.actions button[disabled] { background: #f2f4f7; color: var(--grey); border-color: var(--line); cursor: not-allowed; }
.notice { padding: 8px 12px; background: var(--green-bg); color: var(--green); border: 1px solid var(--green); }
.notice.warning { background: var(--amber-bg); color: var(--amber); border-color: var(--amber); }
`;

export interface LayoutOptions {
  title: string;
  paths: DashboardPaths;
  principal: Principal;
  current: 'backups';
  body: SafeHtml;
}

export function layout(options: LayoutOptions): SafeHtml {
  const { paths, principal } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${options.title}</title>
<style>${trustedHtml(styles)}</style>
</head>
<body>
<header>
  <h1>pg-backup-service</h1>
  <nav>
    <a href="${paths.backups}" aria-current="${options.current === 'backups' ? 'page' : 'false'}">Backups</a>
    <a href="${paths.board}">Queue (Bull Board)</a>
    <a href="${paths.metrics}">Metrics</a>
  </nav>
  <span class="who">${principal.user} (${principal.role})</span>
</header>
<main>
${options.body}
</main>
</body>
</html>
`;
}
