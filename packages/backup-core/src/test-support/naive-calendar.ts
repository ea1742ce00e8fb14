const formatters = new Map<string, Intl.DateTimeFormat>();

// Cached only because building one costs 0.1 ms; each instant still gets its own formatToParts call.
function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/**
 * The local date of an instant in `timeZone` the slow, obvious way, one Intl call per instant:
 * the oracle the prune tests hold the fast calendar (prune/local-day.ts) and the plan against.
 * Zero-padded strings: `2026`, `03`, `07`.
 */
export function naiveLocalDate(
  epochMs: number,
  timeZone: string,
): { year: string; month: string; day: string } {
  const parts = formatter(timeZone)
    .formatToParts(epochMs)
    .reduce<Record<string, string>>((all, part) => Object.assign(all, { [part.type]: part.value }), {});
  return { year: parts.year ?? '', month: parts.month ?? '', day: parts.day ?? '' };
}
