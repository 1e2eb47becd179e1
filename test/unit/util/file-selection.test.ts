import { describe, expect, it } from 'vitest';
import { selectPaths } from '../../../src/util/file-selection.js';

const BOTH = ['config.json', 'model.safetensors', 'pytorch_model.bin', 'tokenizer.json', 'README.md'];
const BIN_ONLY = ['config.json', 'pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin', 'pytorch_model.bin.index.json', 'tokenizer.json'];
const formats = [['model.safetensors', 'model-*.safetensors', 'model.safetensors.index.json'], ['pytorch_model*.bin', 'pytorch_model.bin.index.json']];

describe('selectPaths', () => {
  it('without formats it is include/exclude', () => {
    expect(selectPaths(BOTH, { include: ['*.json'], exclude: ['tok*'] })).toEqual({ selected: ['config.json'], format: undefined });
  });

  it('prefers the first format present and never fetches the other', () => {
    const { selected, format } = selectPaths(BOTH, { include: ['*.json'], formats });
    expect(format).toBe(0);
    expect(selected).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
  });

  it('falls back to the next format when the first is absent', () => {
    const { selected, format } = selectPaths(BIN_ONLY, { include: ['config.json'], formats });
    expect(format).toBe(1);
    expect(selected).toEqual(['config.json', 'pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin', 'pytorch_model.bin.index.json']);
  });

  it('a format file is kept even when include does not name it, and dropped when another format wins', () => {
    expect(selectPaths(BOTH, { formats }).selected).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'README.md']);
  });

  it('reports -1 when no format is present, selecting no weights', () => {
    const { selected, format } = selectPaths(['config.json', 'weights.npz'], { include: ['config.json'], formats });
    expect(format).toBe(-1);
    expect(selected).toEqual(['config.json']);
  });

  it('exclude still wins, also over formats (an excluded format does not count as present)', () => {
    const { selected, format } = selectPaths(BOTH, { formats, exclude: ['model.safetensors'] });
    expect(format).toBe(1);
    expect(selected).toEqual(['config.json', 'pytorch_model.bin', 'tokenizer.json', 'README.md']);
  });
});
