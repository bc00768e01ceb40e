#!/usr/bin/env bash
# Fetches the evaluation photos listed in scripts/eval/photos.tsv from Debian's packages
# (apt-get download: only Debian's mirrors are needed) into .cache/eval-photos/, once.
# Nothing fetched here is committed: each photo stays under its package's licence.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.cache/eval-photos
mkdir -p "$out/debs" "$out/extract"
manifest=scripts/eval/photos.tsv
packages=$(grep -v '^#' "$manifest" | cut -f2 | sort -u)
for p in $packages; do
  if ! ls "$out/debs/${p}_"*.deb >/dev/null 2>&1; then
    (cd "$out/debs" && apt-get download "$p" </dev/null 2>/dev/null) || { apt-get update -qq </dev/null && (cd "$out/debs" && apt-get download "$p" </dev/null); }
  fi
  [ -d "$out/extract/$p" ] || dpkg -x "$out/debs/${p}_"*.deb "$out/extract/$p"
done
n=0
while IFS=$'\t' read -r name pkg path _licence; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  cp "$out/extract/$pkg/$path" "$out/$name"
  n=$((n + 1))
done < "$manifest"
echo "eval photos: $n in $out"
