/**
 * Which catalog entries a run caches (docs/cache-models.md "Selection"). Pure.
 *
 * Precedence: the command line decides when it selects anything (--all, a group flag such as
 * --nllb, --group NAME, --model REPO[@REV]); those selections add up. Only when the command line
 * selects nothing are the preset models (MLCACHE_MODELS, then PRELOAD_MODELS) used. Nothing at all
 * is a usage error that lists the groups.
 *
 * Platform rules: an entry or group whose `platform` excludes this machine is kept in the
 * selection with `skipped` set to a one-line reason (so the plan can say why), unless `force`.
 * `--model` entries are always taken as asked.
 */
import { MlcacheError } from '../errors.js';
import { cutValue } from '../util/cut-value.js';
import { parseRepoSpec } from '../hub/repo-id.js';
import type { RepoRef } from '../hub/types.js';
import { entryName, isHubEntry, type Catalog, type Entry } from './catalog-schema.js';
import { platformMismatch, type MachinePlatform } from './platform-match.js';

/** The pseudo-group of entries that come from --model or MLCACHE_MODELS / PRELOAD_MODELS. */
export const MODELS_GROUP = '(models)';

export interface SelectedHubEntry {
  kind: 'hub';
  group: string;
  name: string;
  repo: RepoRef;
  revision: string;
  include: string[] | undefined;
  exclude: string[] | undefined;
  /** Ordered weight-format alternatives (see catalog-schema.ts). */
  formats: string[][] | undefined;
  gated: boolean;
  optional: boolean;
  purpose: string;
  approxBytes: number | undefined;
  /** The catalog's `local_dir` as written (resolved by catalog/local-dir.ts against the project root). */
  localDir?: string | undefined;
  /** Set when this entry is not cached on this run, with the one-line reason. */
  skipped?: string | undefined;
}

export interface SelectedUrlEntry {
  kind: 'url';
  group: string;
  name: string;
  url: string;
  sha256: string;
  size: number;
  /** Relative to TORCH_HOME, validated safe. */
  destination: string;
  optional: boolean;
  purpose: string;
  skipped?: string | undefined;
}

export type SelectedEntry = SelectedHubEntry | SelectedUrlEntry;

export interface SelectionRequest {
  /** --all */
  all?: boolean | undefined;
  /** --group NAME and the shorthand flags (--indictrans2 → 'indictrans2', …). */
  groups?: readonly string[] | undefined;
  /** --model REPO[@REV], each possibly a comma list. */
  models?: readonly string[] | undefined;
  /** Settings.presetModels (MLCACHE_MODELS / PRELOAD_MODELS), used only when the flags select nothing. */
  presetModels?: readonly string[] | undefined;
  /** Cache entries whose platform constraint excludes this machine anyway. */
  force?: boolean | undefined;
  platform: MachinePlatform;
}

export interface Selection {
  entries: SelectedEntry[];
  /** Where the selection came from. */
  source: 'flags' | 'preset';
}

/** Split repeated and comma-separated values: ['a,b', 'c'] → ['a', 'b', 'c']. */
export function splitList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

function toSelected(group: string, entry: Entry, skipped: string | undefined): SelectedEntry {
  if (isHubEntry(entry)) {
    return {
      kind: 'hub',
      group,
      name: entryName(entry),
      repo: { id: entry.repo, type: entry.type },
      revision: entry.revision,
      include: entry.include,
      exclude: entry.exclude,
      formats: entry.formats,
      gated: entry.gated,
      optional: entry.optional,
      purpose: entry.purpose,
      approxBytes: entry.approxBytes,
      ...(entry.local_dir !== undefined ? { localDir: entry.local_dir } : {}),
      skipped,
    };
  }
  return {
    kind: 'url',
    group,
    name: entryName(entry),
    url: entry.url,
    sha256: entry.sha256,
    size: entry.size,
    destination: entry.destination,
    optional: entry.optional,
    purpose: entry.purpose,
    skipped,
  };
}

function identity(entry: SelectedEntry): string {
  return entry.kind === 'hub'
    ? JSON.stringify(['hub', entry.repo.type, entry.repo.id, entry.revision, entry.include ?? null, entry.exclude ?? null, entry.formats ?? null, entry.localDir ?? null])
    : JSON.stringify(['url', entry.destination]);
}

function unknownGroup(name: string, catalog: Catalog): MlcacheError {
  const known = Object.keys(catalog.groups);
  return new MlcacheError('UNKNOWN_GROUP', `Unknown model group '${cutValue(name)}'.`, {
    hint: `Known groups: ${known.join(', ') || '(none)'}. Add your own in a user catalog (--catalog FILE).`,
    details: { group: cutValue(name), known },
  });
}

export function nothingSelected(catalog: Catalog): MlcacheError {
  const known = Object.keys(catalog.groups);
  return new MlcacheError('USAGE', 'Nothing to cache: no group or model was selected.', {
    hint: `Pass --all, --group NAME (${known.join(', ')}) or --model REPO[@REV], or set MLCACHE_MODELS.`,
    details: { known },
  });
}

/** A --model spec: the catalog's entry for that repo when there is one (its patterns), else the whole repo. */
function modelEntry(spec: string, catalog: Catalog): SelectedEntry {
  const { repo, revision } = parseRepoSpec(spec);
  for (const group of Object.values(catalog.groups)) {
    for (const entry of group.entries) {
      if (isHubEntry(entry) && entry.repo === repo.id && entry.type === repo.type) {
        const selected = toSelected(MODELS_GROUP, entry, undefined) as SelectedHubEntry;
        return { ...selected, name: repo.id, revision: revision ?? entry.revision };
      }
    }
  }
  return {
    kind: 'hub',
    group: MODELS_GROUP,
    name: repo.id,
    repo,
    revision: revision ?? 'main',
    include: undefined,
    exclude: undefined,
    formats: undefined,
    gated: false,
    optional: false,
    purpose: 'requested with --model / MLCACHE_MODELS',
    approxBytes: undefined,
  };
}

export function selectEntries(catalog: Catalog, request: SelectionRequest): Selection {
  const groupNames = splitList(request.groups);
  const flagModels = splitList(request.models);
  const fromFlags = request.all === true || groupNames.length > 0 || flagModels.length > 0;
  const models = fromFlags ? flagModels : splitList(request.presetModels);
  if (!fromFlags && models.length === 0) throw nothingSelected(catalog);

  for (const name of groupNames) if (catalog.groups[name] === undefined) throw unknownGroup(name, catalog);
  const wanted = new Set(groupNames);
  const entries: SelectedEntry[] = [];
  const seen = new Set<string>();
  const push = (entry: SelectedEntry) => {
    const key = identity(entry);
    if (seen.has(key)) return;
    seen.add(key);
    entries.push(entry);
  };
  for (const [name, group] of Object.entries(catalog.groups)) {
    if (!(request.all === true || wanted.has(name))) continue;
    const groupReason = platformMismatch(group.platform, request.platform);
    for (const entry of group.entries) {
      const reason = groupReason ?? platformMismatch(entry.platform, request.platform);
      const skipped = reason !== undefined && request.force !== true ? `${reason} (--force caches it anyway)` : undefined;
      push(toSelected(name, entry, skipped));
    }
  }
  for (const spec of models) push(modelEntry(spec, catalog));
  return { entries, source: fromFlags ? 'flags' : 'preset' };
}
