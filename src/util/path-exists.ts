/**
 * Two questions that look alike and differ on symlinks, each with its own name:
 *
 * | at `file`                          | `pathExists` (lstat) | `targetExists` (stat) |
 * | ---------------------------------- | -------------------- | --------------------- |
 * | a file or folder                   | true                 | true                  |
 * | a symlink to an existing file      | true                 | true                  |
 * | a dangling symlink                 | **true**             | **false**             |
 * | nothing                            | false                | false                 |
 *
 * Use `pathExists` before creating something at `file` (a dangling link still occupies the name:
 * a rename over it works, a `wx` open does not); use `targetExists` when what matters is content
 * that can be read through the name (a snapshot link that resolves). Any error counts as "no"
 * (EACCES on a parent included), as Python's `os.path.lexists` / `os.path.exists` do.
 */
import { lstat, stat } from 'node:fs/promises';

/** Whether anything (a file, a folder, even a dangling symlink) sits at `file`; symlinks are not followed. */
export async function pathExists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Whether `file` resolves to something: symlinks are followed, so a dangling one is false. */
export async function targetExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
