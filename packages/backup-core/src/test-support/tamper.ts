import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Manifest } from '../manifest.js';
import { type CatalogEntry, findBackup, writeManifest } from '../storage/catalog.js';

/** Flips one bit of the byte at `offset` (default: the middle of the file), in place. */
export async function flipBit(file: string, offset?: number): Promise<void> {
  const bytes = await fs.readFile(file);
  const at = offset ?? Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x10;
  await fs.writeFile(file, bytes);
}

/** Rewrites a backup's manifest through the catalog (what a bug or an attacker with write access could do). */
export async function editManifest(
  backupDir: string,
  id: string,
  edit: (manifest: Manifest) => Manifest,
): Promise<CatalogEntry> {
  const entry = await findBackup(backupDir, id);
  return writeManifest(backupDir, edit(structuredClone(entry.manifest)));
}

/**
 * Changes bytes of the file and makes the manifest agree with them (checksum and size), so only
 * the layers below the checksum (compression frames, authenticated encryption) can notice.
 */
export async function tamperUndetectably(
  backupDir: string,
  id: string,
  change: (file: string) => Promise<void> = flipBit,
): Promise<void> {
  const entry = await findBackup(backupDir, id);
  await change(entry.filePath);
  const bytes = await fs.readFile(entry.filePath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await editManifest(backupDir, id, (manifest) => ({ ...manifest, sha256, sizeBytes: bytes.length }));
}

/** The last verification recorded in the manifest of a backup. */
export async function lastVerification(
  backupDir: string,
  id: string,
): Promise<Manifest['verifications'][number] | undefined> {
  return (await findBackup(backupDir, id)).manifest.verifications.at(-1);
}

function zstd(input: Buffer): Buffer {
  const result = spawnSync('zstd', ['-q', '-c'], { input, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`zstd failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * Replaces a zstd file with a valid frame of 2 MiB of garbage followed by a cut frame: a reader
 * of the decoded bytes fails on the garbage long before the decompressor reaches the cut.
 */
export async function garbageThenCutZstdFrame(file: string): Promise<void> {
  const garbage = zstd(Buffer.alloc(2 * 1024 * 1024, 'X'));
  const cut = zstd(Buffer.from('the rest of an archive '.repeat(1000)));
  await fs.writeFile(file, Buffer.concat([garbage, cut.subarray(0, cut.length - 8)]));
}
