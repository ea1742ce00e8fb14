/**
 * Shell-style patterns for database names: `*` any run of characters, `?` one character, every
 * other character literal (a `.` or `[` in a database name means itself). Case-sensitive, like
 * PostgreSQL's names. No character classes: a database name may hold brackets, and a pattern
 * language an operator has to escape would be a source of silent misses.
 */
export function globMatches(pattern: string, name: string): boolean {
  const source = [...pattern]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')))
    .join('');
  // `u`: `?` is one character, not one UTF-16 unit, for names like "café" or "日本".
  return new RegExp(`^${source}$`, 'su').test(name);
}

/** True when the pattern holds no wildcard: it names exactly one database. */
export function isLiteralPattern(pattern: string): boolean {
  return !pattern.includes('*') && !pattern.includes('?');
}
