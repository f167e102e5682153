#!/bin/sh
# ensure-pdf-tools.sh installs the command-line tools the pdf package's tests
# use to check real output: pdftoppm and pdftotext (poppler-utils) and
# zbarimg (zbar-tools). It does nothing when they are already installed, never
# asks a question, and runs apt-get update only if a first install fails.
set -eu

missing=""
if ! command -v pdftoppm >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1; then
	missing="$missing poppler-utils"
fi
command -v zbarimg >/dev/null 2>&1 || missing="$missing zbar-tools"

if [ -z "$missing" ]; then
	echo "pdf tools present: pdftoppm, pdftotext, zbarimg"
	exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "need root (or sudo) to install:$missing" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "installing:$missing"
# shellcheck disable=SC2086 # word splitting of the package list is wanted
if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; then
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

for tool in pdftoppm pdftotext zbarimg; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$tool still missing after install" >&2
		exit 1
	fi
done
echo "pdf tools installed: pdftoppm, pdftotext, zbarimg"
