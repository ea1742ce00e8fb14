import { readFile } from 'node:fs/promises';

/**
 * Bytes a process has written so far, from Linux's /proc/<pid>/io. pg_dump's output goes straight
 * into the compressor through a pipe that Node never touches, so this is how progress is known
 * without an extra pass over the bytes. Undefined where /proc is not available.
 */
export async function bytesWrittenBy(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const text = await readFile(`/proc/${pid}/io`, 'utf8');
    const match = /^wchar:\s*(\d+)$/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
