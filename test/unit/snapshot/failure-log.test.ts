import { describe, expect, it } from 'vitest';
import { createFailureLog } from '../../../src/snapshot/failure-log.js';
import { MAX_FAILURE_RECORDS } from '../../../src/snapshot/index.js';

describe('createFailureLog', () => {
  it('counts every failure and keeps the first `max`, sorted by path', () => {
    const log = createFailureLog(MAX_FAILURE_RECORDS);
    const total = MAX_FAILURE_RECORDS * 3 + 7;
    for (let i = total - 1; i >= 0; i--) log.add({ path: `f${String(i).padStart(5, '0')}`, code: 'DISK_FULL', message: 'No space left.' });
    expect(log.count).toBe(total);
    const records = log.records();
    expect(records).toHaveLength(MAX_FAILURE_RECORDS);
    // The first ones added (the highest paths here), in path order.
    expect(records[0]!.path).toBe(`f${String(total - MAX_FAILURE_RECORDS).padStart(5, '0')}`);
    expect(records.at(-1)!.path).toBe(`f${String(total - 1).padStart(5, '0')}`);
    expect(records.map((r) => r.path)).toEqual([...records.map((r) => r.path)].sort());
  });

  it('keeps everything below the cap', () => {
    const log = createFailureLog(5);
    log.add({ path: 'b', code: 'X', message: 'm' });
    log.add({ path: 'a', code: 'X', message: 'm', hint: 'h' });
    expect(log.count).toBe(2);
    expect(log.records()).toEqual([
      { path: 'a', code: 'X', message: 'm', hint: 'h' },
      { path: 'b', code: 'X', message: 'm' },
    ]);
  });
});
