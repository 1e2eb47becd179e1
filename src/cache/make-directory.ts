/** `mkdir -p` whose failure says what really went wrong (a full disk is not "no such file"). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fsError } from '../util/fs-error.js';
import { pathExists } from '../util/path-exists.js';

/**
 * Create `dir` and its missing parents. Returns the first folder created (undefined if `dir`
 * already existed), like fs.mkdir's recursive form.
 *
 * Node's async recursive mkdir reports ENOENT when the real error of the mkdir(2) call was ENOSPC
 * (no inode or block left), EROFS or EACCES (nodejs/node#42808, fixed only for mkdirSync;
 * nodejs/node#47098 still open): a full disk would read "no such file". On ENOENT the missing
 * folders are created one by one without `recursive`, which surfaces the kernel's own errno.
 * Failures are MlcacheErrors from fsError (DISK_FULL for ENOSPC/EDQUOT), describing `action`.
 */
export async function makeDirectory(dir: string, action = `create ${dir}`): Promise<string | undefined> {
  try {
    return await fs.mkdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, action);
  }
  return mkdirOneByOne(dir, action);
}

async function mkdirOneByOne(dir: string, action: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (await pathExists(current)) break;
    missing.unshift(current);
    if (path.dirname(current) === current) break;
  }
  let first: string | undefined;
  for (const folder of missing) {
    try {
      await fs.mkdir(folder);
      first ??= folder;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(error, action);
    }
  }
  return first;
}
