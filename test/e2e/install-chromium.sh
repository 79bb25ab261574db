#!/usr/bin/env bash
# Installs Debian's chromium for the editor end-to-end test (test/e2e/editor.e2e.test.ts) and
# test/e2e/refresh-screenshots.ts. Idempotent: does nothing when a chromium is already there.
# Needs root (or sudo) and Debian's package mirror; playwright-core's own browser download is
# never used (no internet but the package registries).
# Prints `TRUEDY_CHROMIUM=<path>` as its last line.
set -euo pipefail

find_chromium() {
	if [ -n "${TRUEDY_CHROMIUM:-}" ] && [ -x "$TRUEDY_CHROMIUM" ]; then echo "$TRUEDY_CHROMIUM"; return 0; fi
	for candidate in chromium chromium-browser; do
		if command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return 0; fi
	done
	return 1
}

if ! path=$(find_chromium); then
	SUDO=""
	if [ "$(id -u)" != "0" ]; then
		if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
			echo "install-chromium.sh: chromium is missing and we are not root (and have no sudo)" >&2; exit 1
		fi
	fi
	echo "install-chromium.sh: installing Debian's chromium (apt-get)..." >&2
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >&2
	$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
	path=$(find_chromium) || { echo "install-chromium.sh: chromium still not found after apt-get" >&2; exit 1; }
fi
echo "TRUEDY_CHROMIUM=$path"
