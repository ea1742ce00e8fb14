/** Leaves an unset key out, rather than present and undefined, so the object logs and compares as documented. */
export function optional<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
}
