#!/usr/bin/env node
// Tiny shim: everything lives in the compiled output so start-up stays fast.
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
