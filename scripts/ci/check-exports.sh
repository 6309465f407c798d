#!/usr/bin/env bash
# Proves the built packages work for a consumer outside the workspace: packs every library package as it would be
# published, installs the tarballs with npm in a temporary project, then imports each one from Node and type-checks
# an import of each with TypeScript (no source condition, no workspace links).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

names=()
internals=()
for dir in "$root"/packages/*/; do
  [ -f "$dir/package.json" ] || continue
  (cd "$dir" && pnpm pack --pack-destination "$work" >/dev/null)
  names+=("$(node -p "require('$dir/package.json').name")")
  internal="$(cd "$dir/dist" && ls internal/*.js 2>/dev/null | head -n 1)"
  internals+=("${internal%.js}")
done

cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error ./*.tgz \
  effect@3.22.4 @effect/platform@0.97.2 @effect/platform-node@0.108.2 typescript@5.9.3 @types/node@20 >/dev/null

: >check.ts
for i in "${!names[@]}"; do
  name="${names[$i]}"
  node --input-type=module -e "const m = await import('$name'); if (Object.keys(m).length === 0) throw new Error('$name exports nothing')"
  echo "export * as $(echo "$name" | sed 's/[^a-zA-Z]/_/g') from \"$name\"" >>check.ts
  # Implementation details under internal/ exist in dist but must not be importable.
  if [ -n "${internals[$i]}" ]; then
    node --input-type=module -e "
      try { await import('$name/${internals[$i]}'); process.exit(1) }
      catch (error) { if (error.code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error }" ||
      { echo "$name exposes $name/${internals[$i]}" >&2; exit 1; }
  fi
done
npx tsc --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 check.ts

# The command installed from the tarball: `npx effect-oauth emulator` serves, and `effect-oauth token` gets a token.
npx --no-install effect-oauth --version >/dev/null
npx --no-install effect-oauth emulator --help | grep -q -- "--one-token-per-client"
# The installed bin itself in the background (not through npx, whose child would outlive a kill of npx).
./node_modules/.bin/effect-oauth emulator --provider oauth --client ci:ci-secret --port 0 >emulator.log 2>&1 &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 60); do grep -q "one line per request" emulator.log && break; sleep 0.5; done
url="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' emulator.log)"
[ -n "$url" ] || { cat emulator.log >&2; kill "$emulator"; exit 1; }
OAUTH_CLIENT_ID=ci OAUTH_CLIENT_SECRET=ci-secret npx --no-install effect-oauth token oauth --token-url "$url/oauth/token" \
  --json | node -e 'const t = JSON.parse(require("fs").readFileSync(0, "utf8")); if (t.tokenType !== "Bearer") process.exit(1)'
kill "$emulator"
wait "$emulator" 2>/dev/null || true
echo "exports ok: ${names[*]}; effect-oauth runs from its tarball"
