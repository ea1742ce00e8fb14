import { describe, expect, it } from 'vitest';
import { humanBytes, humanDuration } from './human-format.js';

describe('human formats (backupctl and the dashboard)', () => {
  it('gives sizes in binary units', () => {
    expect(humanBytes(0)).toBe('0 B');
    expect(humanBytes(1023)).toBe('1023 B');
    expect(humanBytes(1536)).toBe('1.5 KiB');
    expect(humanBytes(1_572_864)).toBe('1.5 MiB');
    expect(humanBytes(200 * 1024 ** 3)).toBe('200 GiB');
    expect(humanBytes(-1536)).toBe('-1.5 KiB');
  });

  it('gives durations as their two largest units, with a tenth below ten seconds', () => {
    expect(humanDuration(0)).toBe('0s');
    expect(humanDuration(-5)).toBe('0s');
    expect(humanDuration(4_200)).toBe('4.2s');
    expect(humanDuration(45_000)).toBe('45s');
    expect(humanDuration(124_000)).toBe('2m 4s');
    expect(humanDuration(3_600_000)).toBe('1h');
    expect(humanDuration(93_784_000)).toBe('1d 2h');
    expect(humanDuration(36_000_000 + 59_000)).toBe('10h');
  });
});
