// How sizes and durations read to a person, on every surface (backupctl's tables and progress
// lines, the dashboard's pages): one format, so the same backup reads the same everywhere.

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB", 200 GiB -> "200 GiB"; negative sizes (a shrinking backup) keep their sign. */
export function humanBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || Math.abs(value) >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/**
 * 4 200 -> "4.2s" (short jobs and waits need the tenth), 93 784 000 -> "1d 2h": the two largest
 * units are enough to judge an age or a wait at a glance.
 */
export function humanDuration(ms: number): string {
  if (ms > 0 && ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.max(0, Math.round(ms / 1000));
  const parts: Array<[number, string]> = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  if (first < 0) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}
