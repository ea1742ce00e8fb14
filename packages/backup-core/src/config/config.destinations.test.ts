import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configWorkspace, problemsOf } from '../test-support/config-workspace.js';
import { loadConfig } from './index.js';

const db = { DATABASE_URL: 'postgresql://app@127.0.0.1:5432/shop' };
const workspace = configWorkspace('destinations', db);
const load = workspace.load;

describe('destinations from BACKUP_S3_* variables', () => {
  it('has none by default', () => {
    const config = load({});
    expect(config.destinations).toEqual([]);
    expect(config.targets[0]?.destinations).toEqual([]);
  });

  it('describes one destination named s3 that every target copies to', () => {
    const config = load({
      BACKUP_S3_BUCKET: 'pg-backups',
      BACKUP_S3_ENDPOINT: 'http://minio:9000',
      BACKUP_S3_PREFIX: '/prod/pg/',
      BACKUP_S3_RETENTION: 'daily=3,weekly=2,monthly=1',
    });
    expect(config.destinations).toEqual([
      {
        name: 's3',
        bucket: 'pg-backups',
        endpoint: 'http://minio:9000',
        region: 'us-east-1',
        prefix: 'prod/pg',
        forcePathStyle: true,
        checksums: 'WHEN_REQUIRED',
        maxParts: 10_000,
        retention: { daily: 3, weekly: 2, monthly: 1, yearly: 0, minVerified: 3 },
      },
    ]);
    expect(config.targets[0]?.destinations).toEqual(['s3']);
  });

  it('keeps the SDK defaults for AWS itself: virtual-hosted style, checksums when supported, global retention', () => {
    const [destination] = load({
      BACKUP_S3_BUCKET: 'pg-backups',
      BACKUP_RETENTION: 'daily=2,weekly=0,monthly=0',
    }).destinations;
    expect(destination).toMatchObject({ forcePathStyle: false, checksums: 'WHEN_SUPPORTED' });
    expect(destination?.retention).toMatchObject({ daily: 2, weekly: 0, monthly: 0 });
  });

  it('reads the secret access key from its file, and needs the access key id with it', async () => {
    const file = path.join(workspace.dir, 's3-secret');
    await writeFile(file, 'wJalrXUtnFEMI-secret\n');
    const [destination] = load({
      BACKUP_S3_BUCKET: 'pg-backups',
      BACKUP_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      BACKUP_S3_SECRET_ACCESS_KEY_FILE: file,
    }).destinations;
    expect(destination?.credentials).toEqual({
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI-secret',
    });
    const message = problemsOf(() =>
      load({ BACKUP_S3_BUCKET: 'pg-backups', BACKUP_S3_SECRET_ACCESS_KEY_FILE: file }),
    );
    expect(message).toContain('BACKUP_S3_SECRET_ACCESS_KEY_FILE: is set without the access key id');
    expect(message).not.toContain('wJalrXUtnFEMI');
  });

  it('reports every bad variable at once, and any BACKUP_S3_* variable without a bucket', () => {
    const message = problemsOf(() =>
      load({
        BACKUP_S3_ENDPOINT: 'minio:9000',
        BACKUP_S3_MAX_PARTS: '20000',
        BACKUP_S3_FORCE_PATH_STYLE: 'maybe',
      }),
    );
    expect(message).toContain('BACKUP_S3_ENDPOINT="minio:9000": is not an absolute URL');
    expect(message).toContain('BACKUP_S3_MAX_PARTS="20000": is above 10000');
    expect(message).toContain('BACKUP_S3_FORCE_PATH_STYLE="maybe": is not true or false');
    expect(problemsOf(() => load({ BACKUP_S3_REGION: 'eu-west-1' }))).toContain(
      'BACKUP_S3_BUCKET: is missing',
    );
  });
});

describe('destinations in the config file', () => {
  it('reads a list, and a target may name its own', async () => {
    const file = path.join(workspace.dir, 'two.yaml');
    await writeFile(
      file,
      [
        'destinations:',
        '  - {name: minio, endpoint: "http://127.0.0.1:9000", bucket: backups, prefix: pg, maxParts: 1000, forcePathStyle: true}',
        '  - {name: aws, bucket: far-away, region: eu-west-1, storageClass: STANDARD_IA, checksums: when_supported}',
        'targets:',
        '  - {name: app, url: "postgresql://app@127.0.0.1/app", destinations: [aws]}',
        '  - {name: other, url: "postgresql://app@127.0.0.1/other"}',
      ].join('\n'),
    );
    const config = loadConfig({ env: { BACKUP_CONFIG: file }, cwd: workspace.dir });
    expect(config.destinations.map((d) => [d.name, d.maxParts, d.checksums])).toEqual([
      ['minio', 1000, 'WHEN_REQUIRED'],
      ['aws', 10_000, 'WHEN_SUPPORTED'],
    ]);
    expect(config.targets.map((t) => [t.name, t.destinations])).toEqual([
      ['app', ['aws']],
      ['other', ['minio', 'aws']],
    ]);
  });

  it('refuses unknown keys, unknown destination names and a second s3 from the variables', async () => {
    const file = path.join(workspace.dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'destinations:',
        '  - {name: s3, bucket: backups, buckt: x}',
        'targets:',
        '  - {name: app, url: "postgresql://app@127.0.0.1/app", destinations: [nowhere]}',
      ].join('\n'),
    );
    const message = problemsOf(() =>
      loadConfig({ env: { BACKUP_CONFIG: file, BACKUP_S3_BUCKET: 'other-bucket' }, cwd: workspace.dir }),
    );
    expect(message).toContain('destinations[0].buckt: is not a known key (did you mean bucket?)');
    expect(message).toContain('targets[0].destinations[0]="nowhere": is not a configured destination');
    await writeFile(file, 'destinations:\n  - {name: s3, bucket: backups}\n');
    expect(
      problemsOf(() =>
        loadConfig({
          env: { ...db, BACKUP_CONFIG: file, BACKUP_S3_BUCKET: 'other-bucket' },
          cwd: workspace.dir,
        }),
      ),
    ).toContain(
      'BACKUP_S3_BUCKET="other-bucket": describes the destination s3, which the config file also defines',
    );
  });
});

describe('local retention 0: keep each backup only until every destination has a copy', () => {
  it('BACKUP_RETENTION=0 with a destination: the target keeps until copied, the bucket keeps the default policy', () => {
    const config = load({ BACKUP_RETENTION: '0', BACKUP_S3_BUCKET: 'pg-backups' });
    expect(config.targets[0]?.retention).toMatchObject({
      untilCopied: true,
      daily: 0,
      weekly: 0,
      monthly: 0,
    });
    expect(config.destinations[0]?.retention).toEqual({
      daily: 7,
      weekly: 4,
      monthly: 12,
      yearly: 0,
      minVerified: 3,
    });
  });

  it('the config file takes retention: 0 too', async () => {
    const file = path.join(workspace.dir, 'until-copied.yaml');
    await writeFile(
      file,
      'retention: 0\ndestinations:\n  - name: offsite\n    bucket: pg-backups\n    retention: daily=2,weekly=0,monthly=0\n',
    );
    const config = load({ BACKUP_CONFIG: file });
    expect(config.targets[0]?.retention.untilCopied).toBe(true);
    expect(config.destinations[0]?.retention).toMatchObject({ daily: 2 });
  });

  it('without a destination, or on a destination, 0 is refused naming where and why', () => {
    expect(problemsOf(() => load({ BACKUP_RETENTION: '0' }))).toContain(
      'has retention 0 (keep each backup only until every destination has a copy) but no destination',
    );
    expect(problemsOf(() => load({ BACKUP_S3_BUCKET: 'pg-backups', BACKUP_S3_RETENTION: '0' }))).toMatch(
      /BACKUP_S3_RETENTION.*is 0 \(keep only until copied\), which is for the local backup directory/,
    );
  });
});
