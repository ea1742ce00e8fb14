import type { Compression, Manifest, TableStat } from '../manifest.js';

export interface SizeVerdict {
  suspicious: boolean;
  reason?: string;
}

/**
 * A dump that succeeded but holds far less than the last good one is more often a wrong
 * database, a dropped schema or a permission problem than real shrinkage: it is written (for
 * inspection) but marked suspicious and never counted as good, so pruning cannot lean on it.
 */
export function judgeSize(input: {
  sizeBytes: number;
  tables: readonly TableStat[];
  previous: Manifest | undefined;
  compression: Compression;
  ratio: number;
}): SizeVerdict {
  const { previous, ratio } = input;
  if (!previous || ratio <= 0) return { suspicious: false };
  const previousRows = previous.tables.reduce((sum, table) => sum + table.rows, 0);
  const rows = input.tables.reduce((sum, table) => sum + table.rows, 0);
  if (previous.tableCount > 0 && input.tables.length === 0) {
    return {
      suspicious: true,
      reason: `no tables, where the previous verified backup ${previous.id} had ${previous.tableCount}`,
    };
  }
  if (previousRows > 0 && rows < previousRows * ratio) {
    return {
      suspicious: true,
      reason: `${rows} rows in all, less than ${ratio} x the ${previousRows} of the previous verified backup ${previous.id}`,
    };
  }
  // Sizes only compare like for like: a change of compression changes the size on its own.
  if (
    previous.compression === input.compression &&
    previous.sizeBytes > 0 &&
    input.sizeBytes < previous.sizeBytes * ratio
  ) {
    return {
      suspicious: true,
      reason: `${input.sizeBytes} bytes, less than ${ratio} x the ${previous.sizeBytes} bytes of the previous verified backup ${previous.id}`,
    };
  }
  return { suspicious: false };
}
