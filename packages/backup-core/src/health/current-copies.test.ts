import { describe, expect, it } from 'vitest';
import type { DestinationConfig } from '../config/types.js';
import type { Copy } from '../manifest.js';
import { backup } from '../prune/test-manifests.js';
import { currentCopies } from './current-copies.js';

const s3 = { name: 's3', bucket: 'backups', prefix: 'pg' } as DestinationConfig;
const manifest = backup('a', '2026-11-24T02:00:00Z');
const copy = (destination: string, bucket: string, key: string): Copy => ({
  destination,
  bucket,
  key,
  sizeBytes: manifest.sizeBytes,
  sha256: manifest.sha256,
  confirmedAt: '2026-11-24T03:00:00.000Z',
});

describe('currentCopies', () => {
  it('keeps a copy where its destination keeps the backup now, and drops one from before a re-pointing', () => {
    const here = copy('s3', 'backups', `pg/main/${manifest.file}`);
    const otherBucket = copy('s3', 'old-backups', `pg/main/${manifest.file}`);
    const otherPrefix = copy('s3', 'backups', `old/main/${manifest.file}`);
    expect(currentCopies({ ...manifest, copies: [here] }, [s3]).copies).toEqual([here]);
    expect(currentCopies({ ...manifest, copies: [otherBucket, otherPrefix] }, [s3]).copies).toEqual([]);
  });

  it('leaves a copy to a destination this process does not know as it is', () => {
    const nas = copy('nas', 'x', 'y');
    expect(currentCopies({ ...manifest, copies: [nas] }, [s3]).copies).toEqual([nas]);
  });
});
