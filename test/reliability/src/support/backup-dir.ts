import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { listBackups } from '@pgbackup/backup-core';

async function walk(dir: string, base = dir): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const found: string[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    const stat = await fs.lstat(full);
    if (stat.isDirectory()) found.push(...(await walk(full, base)));
    else found.push(path.relative(base, full));
  }
  return found.sort();
}

/** Every file under the directory (relative path) with its SHA-256: what "nothing changed" compares. */
export async function fileDigests(dir: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const file of await walk(dir)) {
    digests[file] = createHash('sha256')
      .update(await fs.readFile(path.join(dir, file)))
      .digest('hex');
  }
  return digests;
}

/** Temporary files of dumps (`.<name>.<host>.<pid>.<random>.partial`) anywhere under the directory. */
export async function partialFiles(dir: string): Promise<string[]> {
  return (await walk(dir)).filter((file) => file.endsWith('.partial'));
}

export interface CatalogProblem {
  file: string;
  problem: string;
}

/**
 * What must hold after any fault: every manifest is readable and points at a file with the size
 * and SHA-256 it records; no temporary file remains; and no data file lies around without the
 * manifest that makes it a backup.
 */
export async function catalogProblems(backupDir: string): Promise<CatalogProblem[]> {
  const problems: CatalogProblem[] = [];
  const listing = await listBackups(backupDir);
  for (const problem of listing.problems) problems.push({ file: problem.path, problem: problem.message });
  const described = new Set<string>();
  for (const entry of listing.entries) {
    const rel = path.relative(backupDir, entry.filePath);
    described.add(rel);
    described.add(path.relative(backupDir, entry.manifestPath));
    const bytes = await fs.readFile(entry.filePath).catch(() => undefined);
    if (!bytes) {
      problems.push({ file: rel, problem: 'the manifest points at a missing file' });
      continue;
    }
    if (bytes.length !== entry.manifest.sizeBytes) {
      problems.push({
        file: rel,
        problem: `${bytes.length} bytes, manifest says ${entry.manifest.sizeBytes}`,
      });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== entry.manifest.sha256)
      problems.push({ file: rel, problem: 'SHA-256 differs from the manifest' });
  }
  for (const file of await walk(backupDir)) {
    if (file.endsWith('.partial')) problems.push({ file, problem: 'a temporary file remains' });
    else if (!described.has(file)) problems.push({ file, problem: 'a file no manifest describes' });
  }
  return problems;
}
