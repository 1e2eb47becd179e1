import { describe, expect, it } from 'vitest';
import { apiRevisionUrl, apiTreeUrl, isSameOrigin, quote, resolveFileUrl } from '../../../src/hub/index.js';

const E = 'https://huggingface.co';
const model = { id: 'org/m', type: 'model' as const };
const dataset = { id: 'org/d', type: 'dataset' as const };
const space = { id: 'org/s', type: 'space' as const };

// Literal expectations produced by python3's urllib.parse.quote(text, safe='') and quote(text).
const QUOTE_TABLE: Array<[string, string, string]> = [
  ['main', 'main', 'main'],
  ['refs/pr/1', 'refs%2Fpr%2F1', 'refs/pr/1'],
  ['v1.0', 'v1.0', 'v1.0'],
  ['a b', 'a%20b', 'a%20b'],
  ['üñí', '%C3%BC%C3%B1%C3%AD', '%C3%BC%C3%B1%C3%AD'],
  ['#?&=+', '%23%3F%26%3D%2B', '%23%3F%26%3D%2B'],
  ["~_.-!*'()", '~_.-%21%2A%27%28%29', '~_.-%21%2A%27%28%29'],
  ['%41', '%2541', '%2541'],
  ['日本', '%E6%97%A5%E6%9C%AC', '%E6%97%A5%E6%9C%AC'],
  ['emoji😀', 'emoji%F0%9F%98%80', 'emoji%F0%9F%98%80'],
  [';,:@$', '%3B%2C%3A%40%24', '%3B%2C%3A%40%24'],
  ['[x]{y}|\\^`"<>', '%5Bx%5D%7By%7D%7C%5C%5E%60%22%3C%3E', '%5Bx%5D%7By%7D%7C%5C%5E%60%22%3C%3E'],
];

describe('quote (Python urllib.parse.quote)', () => {
  it.each(QUOTE_TABLE)('%j', (text, safeNone, safeSlash) => {
    expect(quote(text, '')).toBe(safeNone);
    expect(quote(text)).toBe(safeSlash);
  });
});

describe('Hub URLs', () => {
  it.each([
    [apiRevisionUrl(E, model, 'main'), 'https://huggingface.co/api/models/org/m/revision/main'],
    [apiRevisionUrl(E, dataset, 'refs/pr/1'), 'https://huggingface.co/api/datasets/org/d/revision/refs%2Fpr%2F1'],
    [apiRevisionUrl(`${E}/`, space, 'v 1'), 'https://huggingface.co/api/spaces/org/s/revision/v%201'],
    [apiTreeUrl(E, model, 'main'), 'https://huggingface.co/api/models/org/m/tree/main?recursive=true&expand=false'],
    [apiTreeUrl(E, model, 'refs/pr/1', 'sub/dir'), 'https://huggingface.co/api/models/org/m/tree/refs%2Fpr%2F1/sub%2Fdir?recursive=true&expand=false'],
    [resolveFileUrl(E, model, 'main', 'config.json'), 'https://huggingface.co/org/m/resolve/main/config.json'],
    [resolveFileUrl(E, dataset, 'refs/pr/1', 'data/train 1.parquet'), 'https://huggingface.co/datasets/org/d/resolve/refs%2Fpr%2F1/data/train%201.parquet'],
    [resolveFileUrl(E, space, 'main', 'a#b?c.txt'), 'https://huggingface.co/spaces/org/s/resolve/main/a%23b%3Fc.txt'],
    [resolveFileUrl('http://127.0.0.1:8080', { id: 'gpt2', type: 'model' }, 'main', 'ünï/x.bin'), 'http://127.0.0.1:8080/gpt2/resolve/main/%C3%BCn%C3%AF/x.bin'],
  ])('%s', (actual, expected) => {
    expect(actual).toBe(expected);
  });
});

describe('isSameOrigin', () => {
  it.each([
    ['https://huggingface.co/a', 'https://huggingface.co/b?x', true],
    ['https://huggingface.co/a', 'https://huggingface.co:443/b', true],
    ['https://huggingface.co/a', 'http://huggingface.co/a', false],
    ['https://huggingface.co/a', 'https://cdn-lfs.hf.co/a', false],
    ['http://127.0.0.1:1000/a', 'http://127.0.0.1:1001/a', false],
    ['not a url', 'https://huggingface.co', false],
  ])('%s vs %s → %s', (a, b, expected) => {
    expect(isSameOrigin(a, b)).toBe(expected);
  });
});
