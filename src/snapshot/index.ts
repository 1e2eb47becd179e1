export { planSnapshot, planTree, cachedCommit } from './plan.js';
export { artifactIdentity, artifactTree, unpackArchive } from './from-artifact.js';
export type { ArtifactIdentity, ArtifactTree, IdentityHints, UnpackedFile } from './from-artifact.js';
export type { PlanContext, PlannedFile, SnapshotPlan, SnapshotRequest } from './plan.js';
export { FEED_WINDOW, MAX_FAILURE_RECORDS, executeSnapshot } from './execute.js';
export type { ExecuteContext, FileFailure, SnapshotResult } from './execute.js';
export { fileSource } from './file-source.js';
export { readLocalSnapshot } from './snapshot-facts.js';
export type { LocalSnapshot } from './snapshot-facts.js';
export {
  formatDownloadMetadata,
  localDownloadPaths,
  localFileIsCurrent,
  localHuggingfaceDir,
  parseDownloadMetadata,
  placeFromCache,
  placeLocalFile,
  splitByLocalDir,
  writeDownloadMetadata,
} from './local-dir.js';
export type { DownloadMetadata, LocalDownloadPaths, LocalFileWant, PlacedBy } from './local-dir.js';
