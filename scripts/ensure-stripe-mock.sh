#!/usr/bin/env bash
# Installs the pinned stripe-mock (Stripe's API mock, used by the payments
# tests) with `go install`, unless that version is already installed.
# Idempotent and non-interactive; prints what it did.
set -euo pipefail

STRIPE_MOCK_VERSION="v0.203.0"
MODULE="github.com/stripe/stripe-mock"

if ! command -v go >/dev/null 2>&1; then
	echo "ensure-stripe-mock: go is not on PATH; install Go first" >&2
	exit 1
fi

# Where `go install` puts binaries: GOBIN, else the first GOPATH entry's bin.
bindir="$(go env GOBIN)"
if [ -z "$bindir" ]; then
	bindir="$(go env GOPATH | cut -d: -f1)/bin"
fi
bin="$bindir/stripe-mock"

installed_version() {
	# stripe-mock -version prints "master" for go-installed builds, so read
	# the module version the Go toolchain stamped into the binary.
	go version -m "$1" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

if [ -x "$bin" ] && [ "$(installed_version "$bin")" = "$STRIPE_MOCK_VERSION" ]; then
	echo "ensure-stripe-mock: stripe-mock $STRIPE_MOCK_VERSION already installed at $bin"
else
	if [ -x "$bin" ]; then
		old="$(installed_version "$bin")"
		echo "ensure-stripe-mock: replacing stripe-mock ${old:-of unknown version} at $bin with $STRIPE_MOCK_VERSION"
	else
		echo "ensure-stripe-mock: installing stripe-mock $STRIPE_MOCK_VERSION into $bindir"
	fi
	go install "$MODULE@$STRIPE_MOCK_VERSION"
	got="$(installed_version "$bin")"
	if [ "$got" != "$STRIPE_MOCK_VERSION" ]; then
		echo "ensure-stripe-mock: expected $STRIPE_MOCK_VERSION at $bin, found '${got:-nothing}'" >&2
		exit 1
	fi
	echo "ensure-stripe-mock: installed stripe-mock $STRIPE_MOCK_VERSION at $bin"
fi

case ":$PATH:" in
*":$bindir:"*) ;;
*) echo "ensure-stripe-mock: note: $bindir is not on PATH; the tests look there anyway" ;;
esac
