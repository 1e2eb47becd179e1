/** Moving a finished, verified download into `blobs/<etag>`. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathExists } from '../util/path-exists.js';
import { fsError } from '../util/fs-error.js';
import { repoTempName } from './repo-temp.js';

export interface CommitBlobResult {
  /** False when the blob already existed (another process won the race); the temp was removed. */
  committed: boolean;
}

/**
 * Atomically rename `tempPath` to `finalBlobPath` (same folder, so same filesystem).
 *
 * Permissions: the downloaded file gets the mode a freshly created file would get in that folder
 * under the current umask, found by creating a probe file next to it and copying its mode. This is
 * huggingface_hub file_download.py::_chmod_and_move's approach; Node's process.umask() getter is
 * deprecated (DEP0139) for the same thread-safety reason Python avoids os.umask.
 *
 * Blobs are content-addressed: if two processes commit the same etag at the same moment, the
 * second rename replaces identical bytes, which readers cannot tell apart.
 */
export async function commitBlob(tempPath: string, finalBlobPath: string): Promise<CommitBlobResult> {
  if (await pathExists(finalBlobPath)) {
    await fs.rm(tempPath, { force: true });
    return { committed: false };
  }
  await applyDefaultMode(tempPath);
  try {
    await fs.rename(tempPath, finalBlobPath);
  } catch (error) {
    throw fsError(error, `move ${tempPath} to ${finalBlobPath}`);
  }
  return { committed: true };
}

async function applyDefaultMode(file: string): Promise<void> {
  // Named like a repo temp (host, pid): a kill before it is removed leaves a name the next run's
  // sweep of `.mlcache-tmp/` recognises as a dead process's and removes.
  const probe = path.join(path.dirname(file), repoTempName('probe'));
  try {
    await fs.writeFile(probe, '', { flag: 'wx' });
    const { mode } = await fs.stat(probe);
    await fs.chmod(file, mode & 0o7777);
  } catch {
    // Like Python: permissions are best-effort (e.g. a filesystem without chmod).
  } finally {
    await fs.rm(probe, { force: true }).catch(() => undefined);
  }
}

