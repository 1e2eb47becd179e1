/**
 * The old entry point of `mlcache lock`, kept so code that imports `commands/lock.js` keeps
 * compiling while other branches move: the library function is src/commands/lock/index.ts, the
 * `--frozen / --locked` half src/commands/lock/locked-run.ts. Import those; this file goes once
 * nothing imports it.
 */
export * from './lock/index.js';
