import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Where each test writes what it observed; docs/reliability.md is written from these files. */
export const resultsDir = path.join(repoRoot, 'test-output', 'reliability');

/**
 * Prints the figures of a run and keeps them in test-output/reliability/<name>.json (git-ignored),
 * with the machine they were measured on.
 */
export function recordResults(name: string, results: Record<string, unknown>): void {
  const record = {
    name,
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    ...results,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`[reliability] ${name}: ${JSON.stringify(results)}`);
}

/** Nearest-rank percentile of a list of numbers (p from 0 to 100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function summarize(values: readonly number[]): {
  count: number;
  min: number;
  median: number;
  p95: number;
  max: number;
} {
  return {
    count: values.length,
    min: Math.min(...values),
    median: percentile(values, 50),
    p95: percentile(values, 95),
    max: Math.max(...values),
  };
}
