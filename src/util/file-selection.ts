/**
 * Which files of a repo an entry wants: include/exclude (huggingface_hub's fnmatch semantics) plus
 * ordered format alternatives. A model repo often holds the same weights twice (safetensors and
 * PyTorch .bin, or .npz); transformers loads safetensors when present and the .bin otherwise. An
 * entry lists the alternatives in order of preference and the first one that matches a file at the
 * commit is fetched — so a catalog entry keeps working when a repo adds or drops a format, and never
 * downloads both. Pure.
 */
import { createPathFilter } from './fnmatch.js';

export interface FileSelection {
  include?: readonly string[] | undefined;
  exclude?: readonly string[] | undefined;
  /** Ordered alternatives, each a list of fnmatch patterns; the first that matches any path wins. */
  formats?: ReadonlyArray<readonly string[]> | undefined;
}

export interface SelectedPaths {
  selected: string[];
  /** Index of the format alternative used; -1 when `formats` is given but none matched; undefined without formats. */
  format: number | undefined;
}

export function selectPaths(paths: readonly string[], selection: FileSelection): SelectedPaths {
  const base = createPathFilter(selection.include, selection.exclude);
  const formats = selection.formats ?? [];
  if (formats.length === 0) return { selected: paths.filter((p) => base(p)), format: undefined };
  const notExcluded = createPathFilter(undefined, selection.exclude);
  const matchers = formats.map((patterns) => createPathFilter(patterns));
  const format = matchers.findIndex((matches) => paths.some((p) => matches(p) && notExcluded(p)));
  const selected = paths.filter((p) => {
    if (!notExcluded(p)) return false;
    const alternative = matchers.findIndex((matches) => matches(p));
    // A file of some format is kept only when it belongs to the chosen one.
    if (alternative !== -1) return format !== -1 && matchers[format]!(p);
    return base(p);
  });
  return { selected, format };
}
