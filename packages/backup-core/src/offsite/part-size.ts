import { BackupError } from '../errors.js';

const MiB = 2 ** 20;
/** S3's bounds for one part (the last part may be smaller than the minimum). */
export const MIN_PART_BYTES = 5 * MiB;
export const MAX_PART_BYTES = 5 * 1024 * MiB;

/**
 * The part size that fits `sizeBytes` into at most `maxParts` parts, in whole MiB. S3 itself
 * allows 10,000 parts: a provider with a lower limit would otherwise fail at part 1,001.
 */
export function pickPartSize(sizeBytes: number, maxParts: number): number {
  const size = Math.max(MIN_PART_BYTES, Math.ceil(sizeBytes / maxParts / MiB) * MiB);
  if (size > MAX_PART_BYTES) {
    throw new BackupError(
      'COPY_TOO_LARGE',
      `${sizeBytes} bytes do not fit in ${maxParts} parts of at most 5 GiB`,
    );
  }
  return size;
}
