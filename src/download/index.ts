/** The transfer engine's public surface (docs/download.md). */
export { createTransferEngine, DEFAULTS as TRANSFER_DEFAULTS } from './transfer-engine.js';
export type * from './types.js';
export { JOURNAL_SUFFIX, PARTIAL_SUFFIX } from './journal.js';
