import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The built entry points that the runbooks, the README, the scripts and the deployment files tell
 * an operator to run (`node apps/backupctl/dist/main.js ...`) must exist. They are checked against
 * their sources (`apps/backupctl/src/main.ts`), so the test needs no build: a moved module breaks
 * it, not a missing `pnpm build`. (The CLI moved from apps/worker to apps/backupctl, and the
 * bare-host wrapper and scripts/backup-postgres.sh kept pointing at the old file.)
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function filesToCheck(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (/\.(md|sh)$/.test(entry.name)) found.push(relative);
    }
  };
  walk('docs');
  walk('scripts');
  for (const entry of fs.readdirSync(repoRoot)) {
    if (/^(README\.md|Dockerfile.*|docker-compose.*\.ya?ml|\.env\.example)$/.test(entry)) found.push(entry);
  }
  return found.sort();
}

/** `apps/x/dist/a/b.js` (or packages/, bench/) with the source it is built from. */
const builtPath = /\b((?:apps|packages)\/[a-z0-9-]+|bench)\/dist\/([A-Za-z0-9_/.-]+?)\.js\b/g;

describe('paths the documentation and scripts run', () => {
  const references = filesToCheck().flatMap((file) =>
    [...fs.readFileSync(path.join(repoRoot, file), 'utf8').matchAll(builtPath)].map((match) => ({
      file,
      built: match[0],
      source: `${match[1]}/src/${match[2]}.ts`,
    })),
  );

  it('finds the entry points it checks (the CLI, the worker and the dashboard)', () => {
    const built = new Set(references.map((reference) => reference.built));
    expect(built).toContain('apps/backupctl/dist/main.js');
    expect(built).toContain('apps/worker/dist/main.js');
    expect(built).toContain('apps/dashboard/dist/main.js');
  });

  it('names only built files whose source exists', () => {
    const missing = references.filter((reference) => !fs.existsSync(path.join(repoRoot, reference.source)));
    expect(
      missing.map((reference) => `${reference.file}: ${reference.built} (no ${reference.source})`),
    ).toEqual([]);
  });
});
