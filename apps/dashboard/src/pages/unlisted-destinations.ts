import { html, type SafeHtml } from './html.js';

export interface UnlistedDestination {
  destination: string;
  code: string;
  message: string;
}

/**
 * The destinations the catalog could not list, on the backups and the target pages: what only
 * they hold is missing below, which must never read as "no backups" (or as a target gone stale
 * on its own).
 */
export function unlistedSection(unlisted: readonly UnlistedDestination[]): SafeHtml | '' {
  if (unlisted.length === 0) return '';
  return html`<section class="problems" id="catalog-incomplete" role="alert">
  <h2>Catalog incomplete: ${unlisted.length} destination(s) could not be listed</h2>
  <p>Backups kept only there are missing below, and the targets' states are judged without them.</p>
  <ul>${unlisted.map(
    (item) =>
      html`<li data-destination="${item.destination}"><code>${item.destination}</code>: <code>${item.code}</code> ${item.message}</li>`,
  )}</ul>
</section>`;
}
