/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** Quotes an SQL identifier (doubling any double quote inside it). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
