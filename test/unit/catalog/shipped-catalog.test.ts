import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogJsonSchema, isHubEntry, isUrlEntry, type Catalog, type HubEntry, type UrlEntry } from '../../../src/catalog/catalog-schema.js';
import { filterPaths } from '../../../src/catalog/file-patterns.js';
import { shippedCatalogPath } from '../../../src/catalog/load-catalog.js';
import { parseCatalogText } from '../../../src/catalog/validate-catalog.js';
import { selectPaths } from '../../../src/util/file-selection.js';

const file = shippedCatalogPath();
const text = readFileSync(file, 'utf8');
const catalog: Catalog = parseCatalogText(text, file);

function hub(group: string): HubEntry[] {
  return catalog.groups[group]!.entries.filter(isHubEntry);
}
function url(group: string): UrlEntry[] {
  return catalog.groups[group]!.entries.filter(isUrlEntry);
}

describe('config/models.json', () => {
  it('validates and points at its schema', () => {
    expect(JSON.parse(text).$schema).toBe('./models.schema.json');
    expect(Object.keys(catalog.groups)).toEqual(['indictrans2', 'nllb', 'whisperx', 'pyannote', 'demucs', 'mlx']);
  });

  it('config/models.schema.json is what the zod schema generates (run `npm run schemas`)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../../config/models.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(catalogJsonSchema());
  });

  it('indictrans2: both directions gated, indic-indic optional, remote code and one weight format', () => {
    const [en, indic] = hub('indictrans2');
    expect(en).toMatchObject({ repo: 'ai4bharat/indictrans2-indic-en-1B', gated: true, optional: false });
    expect(indic).toMatchObject({ repo: 'ai4bharat/indictrans2-indic-indic-1B', gated: true, optional: true });
    const files = ['configuration_indictrans.py', 'modeling_indictrans.py', 'tokenization_indictrans.py', 'model.safetensors', 'pytorch_model.bin',
      'dict.SRC.json', 'dict.TGT.json', 'model.SRC', 'model.TGT', 'config.json', 'README.md'];
    const kept = selectPaths(files, en!).selected;
    expect(kept).toContain('modeling_indictrans.py');
    expect(kept).toContain('tokenization_indictrans.py');
    expect(kept).toContain('model.SRC');
    expect(kept.filter((f) => /\.(safetensors|bin)$/.test(f))).toEqual(['model.safetensors']);
    expect(kept).not.toContain('README.md');
    // A repo with only the PyTorch checkpoint gets exactly that one.
    const binOnly = selectPaths(files.filter((f) => f !== 'model.safetensors'), indic!).selected;
    expect(binOnly.filter((f) => /\.(safetensors|bin)$/.test(f))).toEqual(['pytorch_model.bin']);
  });

  it('nllb: the 3.3B PyTorch shards, index and tokenizer, nothing else', () => {
    const [nllb] = hub('nllb');
    expect(nllb!.repo).toBe('facebook/nllb-200-3.3B');
    const files = ['pytorch_model-00001-of-00003.bin', 'pytorch_model-00002-of-00003.bin', 'pytorch_model-00003-of-00003.bin',
      'pytorch_model.bin.index.json', 'sentencepiece.bpe.model', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
      'config.json', 'generation_config.json', 'README.md', '.gitattributes', 'flax_model.msgpack'];
    expect(selectPaths(files, nllb!)).toEqual({ selected: files.slice(0, 10), format: 1 });
    // Should the repo gain safetensors shards, those are fetched instead of (never beside) the .bin.
    const withSafetensors = [...files, 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json'];
    const kept = selectPaths(withSafetensors, nllb!).selected;
    expect(kept.filter((f) => /\.(safetensors|bin)$/.test(f))).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(kept).toContain('model.safetensors.index.json');
    expect(kept).not.toContain('pytorch_model.bin.index.json');
  });

  it('whisperx: faster-whisper CTranslate2 files only, the torchaudio English alignment artifact, the Hindi model', () => {
    const [fw, hindi] = hub('whisperx');
    expect(fw!.repo).toBe('Systran/faster-whisper-large-v3');
    expect(filterPaths(['config.json', 'model.bin', 'tokenizer.json', 'vocabulary.json', 'preprocessor_config.json', 'README.md'], fw!.include))
      .toEqual(['config.json', 'model.bin', 'tokenizer.json', 'vocabulary.json', 'preprocessor_config.json']);
    expect(hindi!.repo).toBe('theainerd/Wav2Vec2-large-xlsr-hindi');
    expect(url('whisperx')).toEqual([
      expect.objectContaining({
        url: 'https://download.pytorch.org/torchaudio/models/wav2vec2_fairseq_base_ls960_asr_ls960.pth',
        size: 377_664_473,
        sha256: '488fd4f16de84438ffc945334278c1b9fb9b7159a806c1080b16111a958c945d',
        destination: 'hub/checkpoints/wav2vec2_fairseq_base_ls960_asr_ls960.pth',
      }),
    ]);
  });

  it('pyannote: gated where the Hub gates them', () => {
    expect(hub('pyannote').map((e) => [e.repo, e.gated])).toEqual([
      ['pyannote/segmentation-3.0', true],
      ['pyannote/speaker-diarization-3.1', true],
      ['pyannote/wespeaker-voxceleb-resnet34-LM', false],
    ]);
  });

  it('demucs: the htdemucs checkpoint with its exact size and sha256', () => {
    expect(url('demucs')).toEqual([
      expect.objectContaining({
        url: 'https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/955717e8-8726e21a.th',
        size: 84_141_911,
        sha256: '8726e21a993978c7ba086d3872e7608d7d5bfca646ca4aca459ffda844faa8b4',
        destination: 'hub/checkpoints/955717e8-8726e21a.th',
      }),
    ]);
  });

  it('mlx: Apple Silicon only', () => {
    expect(catalog.groups.mlx!.platform).toEqual({ os: ['darwin'], arch: ['arm64'] });
    expect(hub('mlx').map((e) => e.repo)).toEqual(['mlx-community/whisper-large-v3-mlx']);
  });

  it('every entry says what it is for', () => {
    for (const group of Object.values(catalog.groups)) {
      expect(group.description).toBeTruthy();
      for (const entry of group.entries) expect(entry.purpose.length).toBeGreaterThan(10);
    }
  });
});
