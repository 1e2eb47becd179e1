import { describe, expect, it } from 'vitest';
import { formatIssuePath } from '../../../src/util/format-issue-path.js';

describe('formatIssuePath', () => {
  it.each([
    [['groups', 'nllb', 'entries', 0, 'repo'], 'groups.nllb.entries[0].repo'],
    [['pins', 'a/b'], 'pins["a/b"]'],
    [[], '(root)'],
    [['cache', 'torch_home'], 'cache.torch_home'],
    [['hardware', 'gpus', 0, 'name'], 'hardware.gpus[0].name'],
    [['tools', 'nvidia-smi', 'status'], 'tools.nvidia-smi.status'],
    [[0, 'a'], '[0].a'],
  ] as Array<[PropertyKey[], string]>)('%j → %s', (path, expected) => {
    expect(formatIssuePath(path)).toBe(expected);
  });
});
