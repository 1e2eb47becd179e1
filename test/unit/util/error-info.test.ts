import { describe, expect, it } from 'vitest';
import { MlcacheError } from '../../../src/errors.js';
import { errorInfo } from '../../../src/util/error-info.js';

describe('errorInfo', () => {
  it('keeps an MlcacheError\'s code, message and hint, and nothing else (no cause, no stack)', () => {
    const info = errorInfo(new MlcacheError('DISK_FULL', 'No space left.', { hint: 'Free space.', cause: new Error('ENOSPC secret-path') }));
    expect(info).toStrictEqual({ code: 'DISK_FULL', message: 'No space left.', hint: 'Free space.' });
    expect(JSON.stringify(info)).not.toContain('secret-path');
  });

  it('leaves hint out entirely when the error has none (JSON shape stays stable)', () => {
    const info = errorInfo(new MlcacheError('REPO_NOT_FOUND', 'Nope.'));
    expect(Object.keys(info)).toEqual(['code', 'message']);
  });

  it('anything else is INTERNAL with its message', () => {
    expect(errorInfo(new TypeError('bad'))).toStrictEqual({ code: 'INTERNAL', message: 'bad' });
    expect(errorInfo('plain string')).toStrictEqual({ code: 'INTERNAL', message: 'plain string' });
  });
});
