import { describe, expect, it } from 'vitest';
import { MlcacheError } from '../../../src/errors.js';
import { createAbortScope } from '../../../src/util/abort-scope.js';

describe('createAbortScope', () => {
  it('aborts every open controller with the caller’s reason, through one listener, and spares finished ones', () => {
    const outer = new AbortController();
    const scope = createAbortScope(outer.signal);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const open = Array.from({ length: 50 }, () => scope.begin());
      const finished = scope.begin();
      finished.done();
      const reason = new Error('stop');
      outer.abort(reason);
      expect(open.every((c) => c.signal.aborted && c.signal.reason === reason)).toBe(true);
      expect(finished.signal.aborted).toBe(false);
      for (const c of open) c.done();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('follows an extra signal too, and refuses to begin once either aborted', () => {
    const scope = createAbortScope(undefined);
    const extra = new AbortController();
    const controller = scope.begin(extra.signal);
    extra.abort(new Error('upload stopped'));
    expect(controller.signal.aborted).toBe(true);
    expect(() => scope.begin(extra.signal)).toThrow('upload stopped');

    const outer = new AbortController();
    outer.abort();
    const error = (() => {
      try {
        createAbortScope(outer.signal).begin();
      } catch (e) {
        return e;
      }
    })();
    // AbortController.abort() without a reason gives an AbortError DOMException as the reason.
    expect(error).toBe(outer.signal.reason);
    expect(createAbortScope(undefined).reason()).toBeInstanceOf(MlcacheError);
  });

  it('sleep stops with the reason as soon as the caller aborts', async () => {
    const outer = new AbortController();
    const scope = createAbortScope(outer.signal);
    const pending = scope.sleep(60_000);
    const reason = new MlcacheError('INTERRUPTED', 'stopped by the test');
    outer.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
