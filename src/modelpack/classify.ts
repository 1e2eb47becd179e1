/**
 * Which ModelPack layer kind a repo file is, by its name: the same families modctl's
 * pkg/modelfile/constants.go lists (weights, weight configs, docs, code), narrowed to what Hub
 * repos hold. A name none of the rules know is still packed (nothing is left out): as a weight in a
 * model repo when it is an LFS file, as a weight config otherwise, and as a dataset file in a dataset
 * repo; those layers carry `org.cncf.model.file.mediatype.untested: "true"` (annotations.md). Pure.
 */
import type { LayerKind } from './media-types.js';

const WEIGHT = /\.(safetensors|bin|pt|pth|pt2|ptl|mar|ckpt|checkpoint|onnx|onnx_data|ort|gguf|ggml|h5|hdf5|keras|tflite|pb|msgpack|npz|npy|pkl|pickle|joblib|ot|engine|trt|mlmodel|mlpackage|caffemodel|nemo|llamafile|tar|zip)$|\.(bin|gguf|safetensors)\.\d+$|\.onnx\.data$|\.(data-\d+-of-\d+|index)$/i;
const WEIGHT_CONFIG = /(^|\/)(config|generation_config|preprocessor_config|tokenizer_config|special_tokens_map|added_tokens|tokenizer|vocab|merges|spiece|sentencepiece[^/]*|tokenizer[^/]*)\.(json|txt|model|vocab)$|\.(json|json5|jsonc|yaml|yml|toml|ini|cfg|conf|tiktoken|jinja|model|vocab|spm|bpe)$/i;
const DOC = /(^|\/)(readme|license|licence|notice|copying|authors|changelog|citation|use_policy|model_card|modelcard)([._-][^/]*)?$|\.(md|markdown|rst|txt|pdf|html?|png|jpe?g|gif|svg|webp)$/i;
const CODE = /\.(py|pyi|ipynb|sh|bash|js|mjs|cjs|ts|c|cc|cpp|cxx|h|hpp|cu|cuh|go|rs|java|swift|lua|r|jl|patch)$/i;
const DATA = /\.(parquet|arrow|jsonl|csv|tsv|avro|orc|feather|wav|flac|mp3|ogg|webdataset)$/i;

export interface Classification {
  kind: LayerKind;
  /** True when no rule knew the name (the layer says so in its annotations). */
  untested: boolean;
}

export function classifyFile(filePath: string, options: { repoType: 'model' | 'dataset' | 'space'; lfs: boolean }): Classification {
  const name = filePath.toLowerCase();
  // Order matters: `tokenizer.model` is a weight config, not a weight; `README.md` a doc, not a config.
  if (DOC.test(name) && !/(^|\/)(vocab|merges|added_tokens)\.txt$/.test(name)) return { kind: 'doc', untested: false };
  if (CODE.test(name)) return { kind: 'code', untested: false };
  if (options.repoType === 'dataset') return { kind: 'dataset', untested: !DATA.test(name) && !WEIGHT.test(name) };
  if (WEIGHT_CONFIG.test(name)) return { kind: 'weight.config', untested: false };
  if (WEIGHT.test(name)) return { kind: 'weight', untested: false };
  if (DATA.test(name)) return { kind: 'dataset', untested: false };
  return { kind: options.lfs ? 'weight' : 'weight.config', untested: true };
}
