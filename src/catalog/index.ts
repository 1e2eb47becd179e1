/** Model catalog: schema, validation, merging, selection. */
export {
  CatalogSchema,
  EntrySchema,
  GroupSchema,
  HubEntrySchema,
  PlatformSchema,
  UrlEntrySchema,
  catalogJsonSchema,
  entryName,
  isHubEntry,
  isUrlEntry,
  type Catalog,
  type Entry,
  type Group,
  type HubEntry,
  type Platform,
  type UrlEntry,
} from './catalog-schema.js';
export { checkPattern, createFileFilter, filterPaths, patternToRegExp, type FileFilter } from './file-patterns.js';
export {
  findProjectCatalog,
  loadCatalog,
  readCatalogFile,
  shippedCatalogPath,
  type LoadCatalogOptions,
  type LoadedCatalog,
} from './load-catalog.js';
export { applyPins, mergeCatalogs } from './merge-catalogs.js';
export { describePlatform, platformMismatch, type MachinePlatform } from './platform-match.js';
export {
  MODELS_GROUP,
  nothingSelected,
  selectEntries,
  splitList,
  type SelectedEntry,
  type SelectedHubEntry,
  type SelectedUrlEntry,
  type Selection,
  type SelectionRequest,
} from './select-entries.js';
export { formatGroupSummaries, summarizeGroups, type GroupSummary } from './summarize-groups.js';
export { checkCatalogRules, checkDestination, checkLocalDirValue, parseCatalogText, validateCatalog, type CatalogProblem } from './validate-catalog.js';
export { resolveLocalDir, resolveLocalDirs, type LocalDirBase } from './local-dir.js';
