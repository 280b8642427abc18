#!/usr/bin/env bash
# Runs the test suite on another Node.js major version without touching this checkout:
#
#   scripts/test-node.sh <major> [vitest arguments…]      e.g.  scripts/test-node.sh 22 --project sqlite
#
# 1. Fetches the newest node-linux-<arch>@<major> package from the npm registry (the official
#    binaries with their C headers) into a cache, once per version. No network other than the
#    npm registry is used.
# 2. Copies the project into a scratch directory, node_modules hard-linked to save time and disk,
#    except better-sqlite3, which is copied and rebuilt from source against that Node's headers
#    (npm_config_nodedir): native modules are built for one Node ABI, and rebuilding in place would
#    break every process using this checkout's node_modules.
# 3. Runs vitest there with that Node and the given arguments (without a --project: the unit and
#    sqlite projects, plus postgres when TEST_DATABASE_URL is set), printing how long each step took.
#
# Needs: npm, tar, a C++ toolchain (node-gyp), and an installed node_modules in this checkout.
# Cache: $ROSTER_NODE_CACHE (default ~/.cache/roster-node). Scratch copy: $ROSTER_NODE_WORK
# (default a temp dir, removed at exit unless KEEP_WORK=1).
set -euo pipefail
major="${1:?usage: scripts/test-node.sh <major> [vitest arguments…]}"
shift
[[ "$major" =~ ^[0-9]+$ ]] || { echo "major must be a number, e.g. 22" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${ROSTER_NODE_CACHE:-$HOME/.cache/roster-node}"
[ -d "$root/node_modules" ] || { echo "run npm ci in $root first" >&2; exit 2; }

started=$SECONDS
step() { echo "[node $major] $* (+$((SECONDS - started)) s)"; }

case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) echo "unsupported arch $(uname -m)" >&2; exit 2 ;; esac
pkg="node-linux-$arch"
version="$(npm view "$pkg@$major" version --json | node -e '
  const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(Array.isArray(v) ? v[v.length - 1] : v);')"
nodedir="$cache/node-v$version-linux-$arch"
if [ ! -x "$nodedir/bin/node" ]; then
  step "fetching $pkg@$version from the npm registry"
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/fetch.XXXXXX")"
  (cd "$tmp" && npm pack "$pkg@$version" --silent >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  mv "$tmp/package" "$nodedir"
  rm -rf "$tmp"
fi
"$nodedir/bin/node" -e 'process.exit(0)'
step "using $("$nodedir/bin/node" -v) from $nodedir"

work="${ROSTER_NODE_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/roster-node$major.XXXXXX")}"
[ "${KEEP_WORK:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
step "copying the project to $work"
mkdir -p "$work"
# Tracked and new (not ignored) files: what a clone of this checkout would hold.
(cd "$root" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  if [ -e "$f" ] && [ "$f" != node_modules ]; then printf '%s\0' "$f"; fi; done | tar --null -T - -cf - | tar -xf - -C "$work")
node_modules="$(cd "$root/node_modules" && pwd -P)"
cp -al "$node_modules" "$work/node_modules"
rm -rf "$work/node_modules/better-sqlite3"
cp -a "$node_modules/better-sqlite3" "$work/node_modules/better-sqlite3"

# The native module built for this Node and this better-sqlite3 is cached: a rebuild takes minutes.
sqlite_version="$(node -p 'require(process.argv[1]).version' "$work/node_modules/better-sqlite3/package.json")"
addon_cache="$cache/better-sqlite3-$sqlite_version-node-v$version-linux-$arch.node"
addon="$work/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
if [ -f "$addon_cache" ]; then
  step "better-sqlite3 $sqlite_version for Node $version from the cache"
  rm -rf "$work/node_modules/better-sqlite3/build"
  mkdir -p "$(dirname "$addon")"
  cp "$addon_cache" "$addon"
else
  step "rebuilding better-sqlite3 $sqlite_version for Node $version (from source, with its headers)"
  (cd "$work" && PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" npm_config_build_from_source=true \
    npm rebuild better-sqlite3 --foreground-scripts=false --loglevel=error >/dev/null)
  cp "$addon" "$addon_cache.tmp" && mv "$addon_cache.tmp" "$addon_cache"
fi
(cd "$work" && "$nodedir/bin/node" -e 'new (require("better-sqlite3"))(":memory:").prepare("select 1").get()')

step "building"
(cd "$work" && PATH="$nodedir/bin:$PATH" npm run build --silent)

args=("$@")
if [[ " ${args[*]-} " != *" --project"* ]]; then
  args+=(--project unit --project sqlite)
  if [ -n "${TEST_DATABASE_URL:-}" ]; then args+=(--project postgres); fi
fi
step "npm test -- ${args[*]}"
status=0
# The README's test command (`npm test`, i.e. `vitest run`), with that Node first on PATH: npm and
# the vitest it starts both run on it.
(cd "$work" && PATH="$nodedir/bin:$PATH" npm test -- "${args[@]}") || status=$?
step "done (exit $status)"
exit "$status"
