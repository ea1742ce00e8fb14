import { type Manifest, manifestSchema, type Verification } from '../manifest.js';

/** The verification histories tests need, by the state `verificationState` derives from them. */
export const testStates = [
  'verified',
  'failed',
  'suspicious',
  'unverified',
  /** Verified once, then a later re-check failed: failed. */
  'reverified-failed',
  /** Failed once, then a later re-check passed: verified. */
  'failed-then-verified',
] as const;
export type TestState = (typeof testStates)[number];

const checksumOk = (at: string): Verification => ({ level: 'checksum', ok: true, at, durationMs: 12 });
const restoreOk = (at: string): Verification => ({ level: 'restore', ok: true, at, durationMs: 4200 });
const readFailed = (at: string): Verification => ({
  level: 'read',
  ok: false,
  at,
  durationMs: 800,
  errorCode: 'COMPRESSED_STREAM_CORRUPT',
  message: 'zstd: corrupted block',
});

function historyFor(
  state: TestState,
  at: string,
): Pick<Manifest, 'status' | 'verifications' | 'suspicionReason'> {
  switch (state) {
    case 'verified':
      return { status: 'complete', verifications: [checksumOk(at), restoreOk(at)] };
    case 'failed':
      return { status: 'complete', verifications: [readFailed(at)] };
    case 'suspicious':
      return {
        status: 'suspicious',
        suspicionReason: 'dump is 2% of the previous verified backup',
        verifications: [checksumOk(at)],
      };
    case 'unverified':
      return { status: 'complete', verifications: [] };
    case 'reverified-failed':
      return { status: 'complete', verifications: [restoreOk(at), readFailed(at)] };
    case 'failed-then-verified':
      return { status: 'complete', verifications: [readFailed(at), restoreOk(at)] };
  }
}

let counter = 0;

/**
 * A complete manifest that passes `manifestSchema`, verified unless `state` says otherwise.
 * `overrides` win over everything, including the verification history `state` picks.
 */
export function makeManifest(overrides: Partial<Manifest> = {}, state: TestState = 'verified'): Manifest {
  counter += 1;
  const createdAt = overrides.createdAt ?? '2026-11-24T02:00:00.000Z';
  const completedAt = new Date(Date.parse(createdAt) + 95_000).toISOString();
  const id = overrides.id ?? `bk-${String(counter).padStart(6, '0')}`;
  const manifest: Manifest = {
    formatVersion: 1,
    id,
    target: 'main',
    database: 'app',
    createdAt,
    completedAt,
    durationMs: 95_000,
    file: `${id}.dump.zst.enc`,
    format: 'custom',
    compression: 'zstd',
    encryption: { algorithm: 'aes-256-gcm-chunked-v1', keyId: 'k1' },
    sizeBytes: 4_096_000,
    sha256: 'ab'.repeat(32),
    pgDumpVersion: '17.2',
    serverVersion: '15.10',
    tableCount: 1,
    tables: [{ schema: 'public', name: 'orders', rows: 1200, bytes: 10_000_000 }],
    ...historyFor(state, completedAt),
    hostname: 'backup-1',
    ...overrides,
  };
  return manifestSchema.parse(manifest);
}

/** Shorthand for the example tests: one backup of `target` at `createdAt` in `state`. */
export function backup(
  id: string,
  createdAt: string,
  state: TestState = 'verified',
  target = 'main',
): Manifest {
  return makeManifest({ id, createdAt, target }, state);
}
