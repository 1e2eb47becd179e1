/**
 * A tiny O_EXCL lock for engine tests (the real one lives in src/cache): the lock file holds the
 * owner's pid; a lock whose pid is dead is taken over, so a crashed owner never blocks forever.
 */
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireExclusiveLock(
  lockPath: string,
  options: { signal?: AbortSignal; onWait?: () => void; pid?: number } = {},
): Promise<{ release(): Promise<void> }> {
  await mkdir(path.dirname(lockPath), { recursive: true });
  let waited = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(options.pid ?? process.pid));
      await handle.close();
      return { release: () => rm(lockPath, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
