import type { DestinationConfig } from '../config/types.js';
import { parseBackupId } from '../ids.js';
import { MANIFEST_SUFFIX } from '../storage/layout.js';

/**
 * In a bucket: `<prefix>/<target>/<file>` beside `<prefix>/<target>/<id>.manifest.json`, the same
 * names as on disk, so that a bucket synced to a disk is a backup directory.
 */
export function targetPrefix(destination: DestinationConfig, target?: string): string {
  const root = destination.prefix === '' ? '' : `${destination.prefix}/`;
  return target === undefined ? root : `${root}${target}/`;
}

export function dataKey(destination: DestinationConfig, target: string, file: string): string {
  return `${targetPrefix(destination, target)}${file}`;
}

export function manifestKey(destination: DestinationConfig, id: string): string {
  return `${targetPrefix(destination, parseBackupId(id).target)}${id}${MANIFEST_SUFFIX}`;
}

export function isManifestKey(key: string): boolean {
  return key.endsWith(MANIFEST_SUFFIX) && !key.split('/').at(-1)?.startsWith('.');
}
