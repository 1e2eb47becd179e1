/**
 * Reusable fixture repos: the demo repo the README and `npm run hub` / `npm run demo` use.
 */
import type { FixtureRepo } from './types.js';

export const DEMO_REPO_ID = 'mlcache-demo/tiny-model';

const CONFIG = {
  architectures: ['TinyModel'],
  model_type: 'tiny',
  hidden_size: 64,
  num_attention_heads: 2,
  num_hidden_layers: 2,
  vocab_size: 256,
  torch_dtype: 'float32',
};

const TOKENIZER = {
  version: '1.0',
  model: { type: 'BPE', vocab: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [String.fromCharCode(97 + (i % 26)) + String(i), i])), merges: [] },
  added_tokens: [{ id: 0, content: '<pad>', special: true }],
};

const README = `---
license: mit
library_name: transformers
---

# tiny-model

A tiny, deterministic model served by the mlcache Hub emulator. Its weights are pseudo-random bytes.
`;

/** The demo repo: small text files, a nested ONNX file, a ~3 MB LFS safetensors and a `v1.0` tag. */
export function demoRepos(): FixtureRepo[] {
  const common = [
    { path: 'tokenizer.json', content: `${JSON.stringify(TOKENIZER, null, 2)}\n` },
    { path: 'README.md', content: README },
    { path: '.gitattributes', content: '*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.onnx filter=lfs diff=lfs merge=lfs -text\n' },
  ];
  return [
    {
      id: DEMO_REPO_ID,
      type: 'model',
      revisions: [
        {
          refs: ['v1.0'],
          files: [
            ...common,
            { path: 'config.json', content: `${JSON.stringify({ ...CONFIG, num_hidden_layers: 1 }, null, 2)}\n` },
            { path: 'model.safetensors', generated: { size: 2_500_000, seed: 10 } },
          ],
        },
        {
          refs: ['main'],
          files: [
            ...common,
            { path: 'config.json', content: `${JSON.stringify(CONFIG, null, 2)}\n` },
            { path: 'onnx/model.onnx', generated: { size: 400_000, seed: 21 } },
            { path: 'model.safetensors', generated: { size: 3_145_728, seed: 11 } },
          ],
        },
      ],
    },
  ];
}
