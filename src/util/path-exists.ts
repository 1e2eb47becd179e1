/** Whether anything (a file, a folder, even a dangling symlink) sits at `file`. */
import { lstat } from 'node:fs/promises';

export async function pathExists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}
