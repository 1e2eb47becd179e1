import { describe, expect, it } from 'vitest';
import { MlcacheError } from '../../../src/errors.js';
import { errnoCode, fsError, isDiskFull } from '../../../src/util/fs-error.js';

const errno = (code: string) => Object.assign(new Error(`${code}: boom`), { code });

describe('fsError: one errno → MlcacheError mapping', () => {
  it.each([
    ['ENOSPC', 'DISK_FULL', 'No space left to write /c/refs/main.'],
    ['EDQUOT', 'DISK_FULL', 'No space left to write /c/refs/main.'],
    ['EACCES', 'PERMISSION', 'Permission denied to write /c/refs/main (EACCES).'],
    ['EPERM', 'PERMISSION', 'Permission denied to write /c/refs/main (EPERM).'],
    ['EROFS', 'PERMISSION', 'Permission denied to write /c/refs/main (EROFS).'],
    ['EIO', 'FILESYSTEM', 'Could not write /c/refs/main (EIO).'],
    ['ENOENT', 'FILESYSTEM', 'Could not write /c/refs/main (ENOENT).'],
  ])('%s → %s', (code, expected, message) => {
    const cause = errno(code);
    const error = fsError(cause, 'write /c/refs/main');
    expect(error.code).toBe(expected);
    expect(error.message).toBe(message);
    expect(error.cause).toBe(cause);
    expect(error.hint).toBeTruthy();
  });

  it('an error without an errno is FILESYSTEM with no code in the message', () => {
    const error = fsError(new Error('odd'), 'create /c');
    expect(error.code).toBe('FILESYSTEM');
    expect(error.message).toBe('Could not create /c.');
  });

  it('passes an MlcacheError through unchanged', () => {
    const original = new MlcacheError('LOCK_TIMEOUT', 'held');
    expect(fsError(original, 'write x')).toBe(original);
  });

  it('uses the caller\'s hint for each class and keeps details, without changing the class', () => {
    const hints = { diskFull: 'free', permission: 'perm', other: 'other', details: { file: '/l' } };
    expect(fsError(errno('ENOSPC'), 'a', hints)).toMatchObject({ code: 'DISK_FULL', hint: 'free', details: { file: '/l' } });
    expect(fsError(errno('EACCES'), 'a', hints)).toMatchObject({ code: 'PERMISSION', hint: 'perm' });
    expect(fsError(errno('EIO'), 'a', hints)).toMatchObject({ code: 'FILESYSTEM', hint: 'other' });
    expect(fsError(errno('EIO'), 'a').details).toBeUndefined();
  });

  it('errnoCode and isDiskFull read the errno only', () => {
    expect(errnoCode(errno('ENOSPC'))).toBe('ENOSPC');
    expect(errnoCode('ENOSPC')).toBeUndefined();
    expect(errnoCode(undefined)).toBeUndefined();
    expect(isDiskFull(errno('EDQUOT'))).toBe(true);
    expect(isDiskFull(errno('EACCES'))).toBe(false);
    expect(isDiskFull(new Error('No space left on device'))).toBe(false);
  });
});
