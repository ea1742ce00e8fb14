import type { Compression } from '../manifest.js';

export interface CompressorCommand {
  program: string;
  args: string[];
}

/**
 * Compression runs outside pg_dump (`-Z0`): zstd -1 on all cores is about 5x faster than pg_dump's
 * own zlib and smaller (measured in docs/benchmarks.md). gzip stays for tools that cannot read zstd.
 */
export function compressorFor(compression: Compression): CompressorCommand | undefined {
  switch (compression) {
    case 'zstd':
      return { program: 'zstd', args: ['-1', '-T0', '-q', '-c'] };
    case 'gzip':
      return { program: 'gzip', args: ['-3', '-c'] };
    case 'none':
      return undefined;
  }
}

/** Decompresses stdin to stdout, checking the frame checksums as it goes. */
export function decompressorFor(compression: Compression): CompressorCommand | undefined {
  switch (compression) {
    case 'zstd':
      return { program: 'zstd', args: ['-d', '-q', '-c'] };
    case 'gzip':
      return { program: 'gzip', args: ['-d', '-c'] };
    case 'none':
      return undefined;
  }
}
