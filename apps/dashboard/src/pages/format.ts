/** "2026-11-25 02:00:00 UTC": one zone for everyone reading the page. */
export function utcTime(iso: string | Date): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
