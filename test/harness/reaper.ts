import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A detached watchdog that outlives this process: when this process dies in any way
 * (SIGKILL included, where no exit handler runs) it kills the registered servers and
 * removes their directories. Normal teardown stops the servers itself and then the watchdog.
 */
const script = `
parent="$1"; state="$2"
while kill -0 "$parent" 2>/dev/null && [ -d "$state" ]; do sleep 1; done
[ -d "$state" ] || exit 0
for f in "$state"/pid.*; do
  [ -e "$f" ] || continue
  read -r pid sig < "$f"
  kill -s "$sig" "$pid" 2>/dev/null
done
for i in 1 2 3 4 5 6 7 8 9 10; do
  alive=0
  for f in "$state"/pid.*; do
    [ -e "$f" ] || continue
    read -r pid sig < "$f"
    kill -0 "$pid" 2>/dev/null && alive=1
  done
  [ "$alive" = 0 ] && break
  sleep 0.5
done
for f in "$state"/pid.*; do
  [ -e "$f" ] || continue
  read -r pid sig < "$f"
  kill -s KILL "$pid" 2>/dev/null
done
while read -r dir; do [ -n "$dir" ] && rm -rf -- "$dir"; done < "$state/dirs"
rm -rf -- "$state"
`;

let stateDir: string | undefined;

function ensureWatchdog(): string {
  if (stateDir) return stateDir;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-reaper-'));
  writeFileSync(path.join(dir, 'dirs'), '');
  const child = spawn('bash', ['-c', script, 'reaper', String(process.pid), dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  stateDir = dir;
  // A clean exit removes the state directory, which tells the watchdog to leave quietly.
  process.once('exit', () => {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });
  return dir;
}

/** Records the current pid of a server; `signal` is the one that stops it quickly and fully. */
export function trackProcess(name: string, pid: number, signal: 'QUIT' | 'TERM' | 'KILL'): void {
  writeFileSync(path.join(ensureWatchdog(), `pid.${name}`), `${pid} ${signal}\n`);
}

export function untrackProcess(name: string): void {
  if (stateDir) rmSync(path.join(stateDir, `pid.${name}`), { force: true });
}

/** Directories the watchdog removes if this process dies before removing them itself. */
export function trackDirectory(dir: string): void {
  writeFileSync(path.join(ensureWatchdog(), 'dirs'), `${dir}\n`, { flag: 'a' });
}
