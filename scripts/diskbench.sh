#!/usr/bin/env bash
# Measures the data file's layout choices (see store/layout.go) on files of
# N tips built through the store's own API (default 1,000,000; about half
# an hour on 2 cores): bytes per tip with and without full pages in the
# append-only buckets, and, with bbolt's free-page list synced at each
# commit or rebuilt from the whole file, the start time, the time to
# refuse a tip after a commit failed for want of space, and intake
# throughput. Prints a table; stops by itself. Needs about 6 GB of disk
# under $TMPDIR (or DIR) for 1M tips.
#   ./scripts/diskbench.sh [N] [DIR]      # builds the files in DIR (default: a temporary one)
#   REUSE=1 ./scripts/diskbench.sh N DIR  # measures the files already in DIR again
set -euo pipefail
cd "$(dirname "$0")/.."
tips="${1:-1000000}"
args=(-disk.tips="$tips")
if [ -n "${2:-}" ]; then
  mkdir -p "$2"
  args+=(-disk.dir="$2")
  if [ -n "${REUSE:-}" ]; then
    args+=(-disk.reuse)
  fi
fi
exec go test -count=1 -timeout 4h -run '^TestDiskFigures$' -v ./store/ -args "${args[@]}"
