#!/usr/bin/env bash
# The release as a maintainer runs it, short of the upload, in a throwaway copy of the repository: a changeset for
# every package, `changeset version` (versions, internal ranges, changelogs), then `pnpm publish --dry-run` of every
# package from the built dist/ (run `pnpm build` first). Proves that `pnpm version-packages && pnpm release` works.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"

# The tracked and new files and the built packages.
git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$work"
for dist in packages/*/dist; do cp -r "$dist" "$work/$dist"; done
changeset="$root/node_modules/.bin/changeset"
cd "$work"
git init -q -b main && git add -A && git -c user.name=ci -c user.email=ci@localhost commit -qm snapshot

names=()
for manifest in packages/*/package.json; do names+=("$(node -p "require('./$manifest').name")"); done
{
  echo "---"
  for name in "${names[@]}"; do echo "\"$name\": patch"; done
  echo "---"
  echo
  echo "Release dry run from CI."
} >.changeset/ci-release-dry-run.md

"$changeset" status >/dev/null
"$changeset" version >/dev/null
for manifest in packages/*/package.json; do
  dir="$(dirname "$manifest")"
  node -e '
    const [manifest, changelog] = process.argv.slice(1)
    const pkg = require(manifest)
    if (pkg.version === "0.1.0") throw new Error(`${pkg.name}: changeset version did not bump ${pkg.version}`)
    if (!require("fs").readFileSync(changelog, "utf8").includes("Release dry run from CI")) {
      throw new Error(`${pkg.name}: no changelog entry`)
    }
  ' "$work/$manifest" "$work/$dir/CHANGELOG.md"
done
# pnpm publish turns workspace: ranges into the linked packages' (new) versions: link them, from the local store.
pnpm install --offline --frozen-lockfile --ignore-scripts >/dev/null
pnpm -r --filter "./packages/*" publish --dry-run --no-git-checks --access public >"$work/publish.log" 2>&1 ||
  { cat "$work/publish.log" >&2; exit 1; }
published="$(grep -c '^+ @effect-oauth/' "$work/publish.log" || true)"
if [ "$published" -ne "${#names[@]}" ]; then
  cat "$work/publish.log" >&2
  echo "release dry run: expected ${#names[@]} packages, the dry run published $published" >&2
  exit 1
fi
echo "release dry run ok: ${#names[@]} packages versioned, changelogs written, publish --dry-run passed"
