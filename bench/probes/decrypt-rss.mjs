// Why an encrypted backup is read 128 KiB at a time when it is decrypted (ENCRYPTED_READ_BYTES,
// packages/backup-core/src/verify/decode.ts): the worker's memory peak against the read size.
// The pipeline is decodeThroughNode's for a checksum verification: the file read in chunks of the
// given size, decrypted (createDecryptStream), piped into `zstd -t`. Each run is a fresh Node
// process; it reports its VmHWM growth over the pass and the pass's wall time.
// Run: pnpm --filter @pgbackup/bench run probe:decrypt-rss [-- --size-mb 300 --runs 3]
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createDecryptStream, createEncryptStream, operatorKeyFromBytes } from '@pgbackup/backup-core';

const key = operatorKeyFromBytes(Buffer.alloc(32, 7));
const flag = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const hwmMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;

if (process.argv[2] === '--child') {
  const [file, readKiB] = [process.argv[3], Number(process.argv[4])];
  const before = hwmMb();
  const zstd = spawn('zstd', ['-t', '-q'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise((resolve, reject) =>
    zstd.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`zstd -t exited ${code}`)))),
  );
  const started = performance.now();
  await pipeline(
    createReadStream(file, { highWaterMark: readKiB * 1024 }),
    createDecryptStream({ keyring: [key] }),
    zstd.stdin,
  );
  await exited;
  console.log(JSON.stringify({ growthMb: hwmMb() - before, ms: performance.now() - started }));
} else {
  const sizeMb = flag('--size-mb', 300);
  const runs = flag('--runs', 3);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-probe-decrypt-'));
  try {
    // zstd output of incompressible-ish text: as high in entropy as a real backup's bytes.
    const compressed = path.join(dir, 'data.zst');
    execFileSync('bash', [
      '-o',
      'pipefail',
      '-c',
      `head -c ${sizeMb * 1_000_000} /dev/urandom | base64 -w 0 | zstd -1 -q -c > ${compressed}`,
    ]);
    const encrypted = path.join(dir, 'data.zst.enc');
    await pipeline(createReadStream(compressed), createEncryptStream({ key }), createWriteStream(encrypted));
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const sizes = [64, 128, 256, 1024];
    const results = new Map(sizes.map((size) => [size, []]));
    // Interleaved, so that a busy machine slows every size alike.
    for (let run = 0; run < runs; run++) {
      for (const size of sizes) {
        const out = execFileSync(process.execPath, [
          fileURLToPath(import.meta.url),
          '--child',
          encrypted,
          String(size),
        ]);
        results.get(size).push(JSON.parse(out.toString()));
      }
    }
    console.log(
      `Decrypting ${sizeMb} MB of random base64 (zstd -1, encrypted) into zstd -t, ${runs} run(s), median:\n`,
    );
    console.log('| read size | VmHWM growth | wall |\n|---|---|---|');
    for (const size of sizes) {
      const rows = results.get(size);
      console.log(
        `| ${size} KiB | ${median(rows.map((r) => r.growthMb)).toFixed(0)} MB | ${median(rows.map((r) => r.ms)).toFixed(0)} ms |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
