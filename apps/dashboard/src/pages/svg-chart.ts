import { html, type SafeHtml } from './html.js';

export interface ChartPoint {
  /** Unix ms: the x axis is time. */
  at: number;
  value: number;
  /** Names the point in the markup (`data-point`), e.g. the backup id. */
  id: string;
  /** Drawn in red, larger: a point that deserves a look (a sudden drop in size, a failed drill). */
  flagged?: boolean;
  /** Tooltip text before the value. */
  label: string;
}

export interface ChartOptions {
  /** The `id` of the <svg>, for tests and links. */
  id: string;
  title: string;
  points: readonly ChartPoint[];
  format: (value: number) => string;
  width?: number;
  height?: number;
}

const pad = { left: 72, right: 16, top: 12, bottom: 26 };

/**
 * A line chart as inline SVG, rendered on the server: no script, no request to anyone, so the
 * CSP stays `script-src 'self'` and the page works without JavaScript. Presentation attributes
 * only (no style attributes); tooltips are SVG <title>s. Every value goes through `html`, which
 * escapes it.
 */
export function lineChart(options: ChartOptions): SafeHtml {
  const width = options.width ?? 640;
  const height = options.height ?? 170;
  const points = [...options.points].sort((a, b) => a.at - b.at);
  if (points.length === 0) {
    return html`<div class="empty chart-empty" id="${options.id}">${options.title}: no data yet.</div>`;
  }
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const first = points[0]!.at;
  const last = points.at(-1)!.at;
  const top = Math.max(...points.map((p) => p.value)) * 1.1 || 1;
  const x = (at: number) =>
    pad.left + (last === first ? innerW / 2 : ((at - first) / (last - first)) * innerW);
  const y = (value: number) => pad.top + innerH - (value / top) * innerH;
  const round = (n: number) => Math.round(n * 10) / 10;
  const line = points.map((p) => `${round(x(p.at))},${round(y(p.value))}`).join(' ');
  const grid = [0, 0.5, 1].map((share) => top * share);
  const date = (at: number) => new Date(at).toISOString().slice(0, 16).replace('T', ' ');
  return html`<figure class="chart">
<figcaption>${options.title}</figcaption>
<svg id="${options.id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${options.title}">
${grid.map(
  (
    value,
  ) => html`<line x1="${pad.left}" x2="${width - pad.right}" y1="${round(y(value))}" y2="${round(y(value))}" stroke="#eaecf0"/>
<text x="${pad.left - 6}" y="${round(y(value)) + 4}" text-anchor="end" font-size="11" fill="#475467">${options.format(value)}</text>`,
)}
<text x="${pad.left}" y="${height - 6}" font-size="11" fill="#475467">${date(first)}</text>
${last === first ? '' : html`<text x="${width - pad.right}" y="${height - 6}" text-anchor="end" font-size="11" fill="#475467">${date(last)}</text>`}
<polyline points="${line}" fill="none" stroke="#1570ef" stroke-width="2"/>
${points.map(
  (p) =>
    html`<circle data-point="${p.id}" data-flagged="${p.flagged ? 'true' : 'false'}" cx="${round(x(p.at))}" cy="${round(y(p.value))}" r="${p.flagged ? 6 : 4}" fill="${p.flagged ? '#b42318' : '#1570ef'}"><title>${p.label}: ${options.format(p.value)}</title></circle>`,
)}
</svg>
</figure>`;
}
