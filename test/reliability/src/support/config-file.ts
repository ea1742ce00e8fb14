import fs from 'node:fs/promises';
import path from 'node:path';

export type Scalar = string | number | boolean;

export interface FileTarget {
  name: string;
  url: string;
  [key: string]: Scalar;
}

/** A scalar as YAML: strings double-quoted with JSON escapes (a YAML double-quoted scalar). */
function scalar(value: Scalar): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The text of a BACKUP_CONFIG YAML file: top-level settings, then the list of targets. */
export function configYaml(settings: Record<string, Scalar>, targets: readonly FileTarget[]): string {
  const lines = Object.entries(settings).map(([key, value]) => `${key}: ${scalar(value)}`);
  lines.push('targets:');
  for (const target of targets) {
    const [first, ...rest] = Object.entries(target);
    lines.push(`  - ${first![0]}: ${scalar(first![1])}`);
    for (const [key, value] of rest) lines.push(`    ${key}: ${scalar(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `<dir>/backups.yaml` and returns its path (for BACKUP_CONFIG). */
export async function writeConfigFile(
  dir: string,
  settings: Record<string, Scalar>,
  targets: readonly FileTarget[],
): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'backups.yaml');
  await fs.writeFile(file, configYaml(settings, targets));
  return file;
}
