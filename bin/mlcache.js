#!/usr/bin/env node
// Tiny shim: everything lives in the compiled output so start-up stays fast.
import module from 'node:module';

// Node >= 22.1 keeps V8's compiled code of our modules and dependencies between runs (in the OS
// temp folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off): about half of a short command's
// start-up. Node 20 has no such API, so it is skipped there.
module.enableCompileCache?.();

import('../dist/cli/main.js').then(
  (m) => m.main(process.argv),
  (error) => {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write('mlcache: the build output is missing; run `npm run build` first.\n');
    } else {
      process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
    }
    process.exitCode = 70;
  },
);
