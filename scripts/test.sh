#!/usr/bin/env bash
# Runs every test: installs and starts what the tests need, then go test with
# the race detector, then a short fuzz run of the roster parser.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"

scripts/ensure-postgres.sh --install
scripts/ensure-stripe-mock.sh
scripts/ensure-pdf-tools.sh
scripts/ensure-chromium.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 -timeout 20m -parallel 4 ./...
if [ -d models/rostercsv ]; then
  # A count, not a duration: Go 1.26's fuzz coordinator can report a spurious
  # "context deadline exceeded" when a -fuzztime duration runs out while a
  # worker is mid-call (golang/go#75804, fixed in 1.27); a count has no deadline.
  go test -run='^$' -fuzz=FuzzParse -fuzztime=30000x ./models/rostercsv/
fi
