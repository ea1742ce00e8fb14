import { type Catalog, type CatalogConfig, readCatalog } from '@pgbackup/backup-core';

/**
 * Longest time a destination may take to list for one page or scrape (Prometheus gives up
 * after 10 s by default; Redis gets 3 s of the same budget). Past it the destination shows as
 * an error, and the page answers with the rest.
 */
export const CATALOG_LISTING_TIMEOUT_MS = 5_000;

/**
 * The catalog every page and the metrics show: readCatalog's answer (the local directory, or
 * with a target at retention 0 the buckets too), bounded in time.
 */
export function dashboardCatalog(config: CatalogConfig, target?: string): Promise<Catalog> {
  return readCatalog(config, {
    timeoutMs: CATALOG_LISTING_TIMEOUT_MS,
    ...(target === undefined ? {} : { target }),
  });
}

/** The destinations that could not be listed: the catalog misses what only they hold. */
export function unlistedDestinations(
  catalog: Catalog,
): Array<{ destination: string; code: string; message: string }> {
  return catalog.destinations.flatMap((listing) =>
    listing.ok ? [] : [{ destination: listing.destination, code: listing.code, message: listing.message }],
  );
}
