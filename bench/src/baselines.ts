import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { runTimed } from './command.js';
import { treeCpuMs } from './proc.js';
import type { Sample } from './sample.js';

/** What a cron line would run, with the same pg_dump and pg_restore the worker picks. */
export interface PlainTools {
  pgDump: string;
  pgRestore: string;
  /** bench/dist/bench/src/durable-writer.js */
  durableWriter: string;
}

/** Environment of the plain commands: no PG* variable, the URL is given with -d. */
export function plainEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG ?? 'C.UTF-8' };
}

/** The time the kernel takes to write out what the last command left dirty (the worker fsyncs; these do not). */
export function syncMs(): number {
  const started = performance.now();
  execFileSync('sync');
  return performance.now() - started;
}

export class PlainCommands {
  constructor(
    private readonly tools: PlainTools,
    private readonly postmasterPid: number,
    private readonly dir: string,
  ) {}

  get plainFile(): string {
    return path.join(this.dir, 'plain.dump');
  }

  get pipedFile(): string {
    return path.join(this.dir, 'piped.dump.zst');
  }

  /** `pg_dump -Fc -Z0 | wc -c`: the floor, the server's COPY and pg_dump without compression. */
  async floor(url: string): Promise<Sample> {
    const { sample, stdout } = await runTimed(
      {
        program: 'bash',
        args: ['-o', 'pipefail', '-c', '"$1" -Fc -Z0 -d "$2" | wc -c', 'bench', this.tools.pgDump, url],
        env: plainEnv(),
        captureStdout: true,
      },
      this.postmasterPid,
    );
    return { ...sample, sizeBytes: Number(stdout.trim()) };
  }

  /** (1) `pg_dump -Fc -f file`: zlib level 6 inside pg_dump, what most cron scripts do. */
  async plainDump(url: string): Promise<Sample> {
    const { sample } = await runTimed(
      {
        program: this.tools.pgDump,
        args: ['-Fc', '-f', this.plainFile, '-d', url],
        env: plainEnv(),
        output: this.plainFile,
      },
      this.postmasterPid,
    );
    return sample;
  }

  /** (2) `pg_dump -Fc -Z0 | zstd -1 -T0 > file`: the fastest shell pipeline. */
  async pipedDump(url: string): Promise<Sample> {
    const { sample } = await runTimed(
      {
        program: 'bash',
        args: [
          '-o',
          'pipefail',
          '-c',
          '"$1" -Fc -Z0 -d "$2" | zstd -1 -T0 -q > "$3"',
          'bench',
          this.tools.pgDump,
          url,
          this.pipedFile,
        ],
        env: plainEnv(),
        output: this.pipedFile,
      },
      this.postmasterPid,
    );
    return sample;
  }

  /**
   * Diagnostic: (2) with zstd's output handed to Node as the worker does (SHA-256 tap, write
   * stream, fsync at the end), optionally writing the file out every `flushMb` MB as it goes.
   */
  async pipedDurable(url: string, flushMb: number): Promise<Sample> {
    rmSync(this.pipedFile, { force: true });
    const { sample } = await runTimed(
      {
        program: 'bash',
        args: [
          '-o',
          'pipefail',
          '-c',
          '"$1" -Fc -Z0 -d "$2" | zstd -1 -T0 -q | "$3" "$4" "$5" "$6"',
          'bench',
          this.tools.pgDump,
          url,
          process.execPath,
          this.tools.durableWriter,
          this.pipedFile,
          String(flushMb),
        ],
        env: plainEnv(),
        output: this.pipedFile,
      },
      this.postmasterPid,
    );
    return sample;
  }

  /** `pg_restore -f /dev/null <file of (1)>`: a full read of the plain archive. */
  async readPlain(): Promise<Sample> {
    const { sample } = await runTimed(
      { program: this.tools.pgRestore, args: ['-f', '/dev/null', this.plainFile], env: plainEnv() },
      this.postmasterPid,
    );
    return sample;
  }

  /** `zstd -dc <file of (2)> | pg_restore -f /dev/null`: the same read of the zstd archive. */
  async readPiped(): Promise<Sample> {
    const { sample } = await runTimed(
      {
        program: 'bash',
        args: [
          '-o',
          'pipefail',
          '-c',
          'zstd -dcq "$1" | "$2" -f /dev/null',
          'bench',
          this.pipedFile,
          this.tools.pgRestore,
        ],
        env: plainEnv(),
      },
      this.postmasterPid,
    );
    return sample;
  }

  /**
   * `createdb` + `pg_restore -d <new db> <file of (1)>`, timed together; the database is dropped
   * afterwards, untimed.
   */
  async restorePlain(adminUrl: string, urlOf: (database: string) => string): Promise<Sample> {
    const database = `bench_restore_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      const serverBefore = treeCpuMs(this.postmasterPid);
      const started = performance.now();
      await admin.query(`CREATE DATABASE ${database} TEMPLATE template0`);
      const { sample } = await runTimed(
        { program: this.tools.pgRestore, args: ['-d', urlOf(database), this.plainFile], env: plainEnv() },
        this.postmasterPid,
      );
      const wallMs = performance.now() - started;
      const serverCpuMs = treeCpuMs(this.postmasterPid) - serverBefore;
      await admin.query(`DROP DATABASE ${database}`);
      return { ...sample, wallMs, serverCpuMs };
    } finally {
      await admin.end();
    }
  }
}
