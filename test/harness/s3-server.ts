import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from './errors.js';
import { freePort } from './free-port.js';
import { trackDirectory } from './reaper.js';
import { logTail, TrackedChild } from './tracked-child.js';
import { waitFor } from './wait.js';

const mainScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-main.mjs');

export interface S3ServerOptions {
  /** Buckets that exist from the start. Default ['backups']. */
  buckets?: string[];
}

let serial = 0;

/**
 * A real S3 protocol server (s3rver) on 127.0.0.1 and a free port, in its own process and
 * directory, so that a test can kill it mid-upload and start it again with the same data.
 * s3rver checks only the access key id (`S3RVER`), not signatures; it lacks
 * ListMultipartUploads and AbortMultipartUpload (docs/runbook.md says what that leaves untested).
 */
export class S3Server {
  readonly name = `s3rver-${process.pid}-${serial++}`;
  private readonly process = new TrackedChild(this.name);
  static readonly accessKeyId = 'S3RVER';
  static readonly secretAccessKey = 'S3RVER';

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly buckets: string[],
  ) {}

  static async start(options: S3ServerOptions = {}): Promise<S3Server> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-s3-'));
    trackDirectory(dir);
    const server = new S3Server(dir, await freePort(), options.buckets ?? ['backups']);
    await server.startProcess();
    return server;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * The file in which s3rver keeps an object's bytes (it answers GetObject from it, size from its
   * length): tests damage a stored object there, as bit rot or a faulty provider would.
   */
  objectFile(bucket: string, key: string): string {
    const parts = key.split('/');
    const last = parts.pop() ?? '';
    return path.join(this.dir, 'data', bucket, ...parts, `${last}._S3rver_object`);
  }

  /**
   * The variables of one destination on this server (BACKUP_S3_*, named `s3`), as a deployment
   * writes them: the secret key in a file of mode 0600, kept in the server's directory (which
   * destroy() removes). The bucket is the first one the server was started with.
   */
  destinationEnv(): Record<string, string> {
    const secretFile = path.join(this.dir, 'secret-access-key');
    writeFileSync(secretFile, S3Server.secretAccessKey, { mode: 0o600 });
    return {
      BACKUP_S3_BUCKET: this.buckets[0] ?? 'backups',
      BACKUP_S3_ENDPOINT: this.endpoint,
      BACKUP_S3_ACCESS_KEY_ID: S3Server.accessKeyId,
      BACKUP_S3_SECRET_ACCESS_KEY_FILE: secretFile,
    };
  }

  get running(): boolean {
    return this.process.running;
  }

  private async startProcess(): Promise<void> {
    const log = openSync(path.join(this.dir, 's3rver.log'), 'a');
    // --openssl-legacy-provider: s3rver's ListObjectsV2 continuation token uses DES, which
    // OpenSSL 3 refuses without it (s3rver #818); pages of more than MaxKeys would answer 500.
    const child = spawn(
      process.execPath,
      [
        '--openssl-legacy-provider',
        mainScript,
        String(this.port),
        path.join(this.dir, 'data'),
        this.buckets.join(','),
      ],
      { stdio: ['ignore', log, log], cwd: path.dirname(mainScript) },
    );
    this.process.attach(child, 'KILL');
    let exitedEarly = false;
    child.once('exit', () => {
      exitedEarly = true;
    });
    await waitFor(`s3rver on port ${this.port}`, async () => {
      if (exitedEarly)
        throw new HarnessError(`s3rver exited at start: ${logTail(path.join(this.dir, 's3rver.log'))}`);
      return canConnect(this.port);
    });
  }

  /** Crash: SIGKILL, connections cut mid-request. */
  async kill(): Promise<void> {
    await this.process.signalAndWait('SIGKILL');
  }

  /** Starts again on the same port with the same stored objects. */
  async restart(): Promise<void> {
    if (this.process.running) await this.kill();
    await this.startProcess();
  }

  async destroy(): Promise<void> {
    await this.process.signalAndWait('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
