#!/usr/bin/env bash
# The project's one test command: what a developer runs and what CI runs.
#   ./scripts/test.sh
# Runs vet, every Go test under the race detector (unit, end-to-end, leak,
# crash), and the Twilio REST contract test against Prism serving Twilio's
# own OpenAPI file.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...

echo "== go test"
go test -race -count=1 -timeout 20m ./...

if [ -x scripts/prism-contract.sh ]; then
  echo "== Twilio REST contract (Prism)"
  scripts/prism-contract.sh
fi
