/**
 * Whether a process of this host still runs: what decides that a partial file or a download
 * named after its owner's pid is an orphan (storage/sweep.ts, storage/tmp-area.ts). EPERM means
 * it runs under another user.
 */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
