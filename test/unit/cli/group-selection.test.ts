import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addOptions, canAsk, groupSelection, groupSelectionOptions, type GroupSelectionFlags } from '../../../src/cli/context.js';

function parse(args: string[], options = groupSelectionOptions()): GroupSelectionFlags {
  const command = addOptions(new Command('x').exitOverride().configureOutput({ writeErr: () => undefined }), options);
  command.parse(args, { from: 'user' });
  return command.opts<GroupSelectionFlags>();
}

describe('groupSelectionOptions / groupSelection', () => {
  it('shorthands come first, then --group in order; --model collects every use', () => {
    const flags = parse(['--group', 'pyannote', '--mlx', '--nllb', '--group', 'demucs', '--model', 'a/b', '--model', 'c/d@v1']);
    expect(groupSelection(flags)).toEqual({ groups: ['nllb', 'mlx', 'pyannote', 'demucs'], all: undefined, models: ['a/b', 'c/d@v1'] });
  });

  it('--all alone selects no group by name', () => {
    expect(groupSelection(parse(['--all']))).toEqual({ groups: [], all: true, models: undefined });
  });

  it('without --model (bootstrap) the flag is unknown, and --all can say more', () => {
    const options = groupSelectionOptions({ all: 'every group (the default)', model: false });
    expect(options.map((o) => o.long)).toEqual(['--all', '--indictrans2', '--nllb', '--whisperx', '--mlx', '--group']);
    expect(options[0]?.description).toBe('every group (the default)');
    expect(() => parse(['--model', 'a/b'], options)).toThrow(/unknown option '--model'/);
  });
});

describe('canAsk', () => {
  it('never with --json or in CI (whatever the terminal)', () => {
    expect(canAsk({ json: true }, { ci: false })).toBe(false);
    expect(canAsk({}, { ci: true })).toBe(false);
  });
});
