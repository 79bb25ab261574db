#!/usr/bin/env bash
# Makes sure the queue-mode e2e suite (test/e2e/queue) has what it needs besides n8n itself:
# redis-server and PostgreSQL's binaries (initdb and postgres; pg_isready, createdb and psql, which
# Debian's postgresql pulls in with postgresql-client). Installs missing ones with apt-get
# (Debian/Ubuntu, as root, or with passwordless sudo); does nothing when both are there.
# Prints one line per tool found: `TRUEDY_QUEUE_DEP redis=<path>` and `TRUEDY_QUEUE_DEP pgbin=<dir>`.
set -euo pipefail

find_pg_bin() {
	local dir
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
		if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && [ -x "$dir/pg_isready" ] &&
			[ -x "$dir/createdb" ] && [ -x "$dir/psql" ]; then
			echo "$dir"
			return 0
		fi
	done
	if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 &&
		command -v pg_isready >/dev/null 2>&1 && command -v createdb >/dev/null 2>&1 &&
		command -v psql >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
find_pg_bin >/dev/null || missing+=(postgresql)

if [ ${#missing[@]} -gt 0 ]; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "install-queue-deps: missing ${missing[*]} and no apt-get here; install them by hand" >&2
		exit 1
	fi
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if sudo -n true 2>/dev/null; then sudo=(sudo -n); else
			echo "install-queue-deps: missing ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
			exit 1
		fi
	fi
	echo "install-queue-deps: installing ${missing[*]} with apt-get" >&2
	start=$SECONDS
	# Keep apt from starting the services it installs (the suite starts its own, on free ports).
	policy_added=0
	apt_log=$(mktemp)
	cleanup() {
		if [ $policy_added -eq 1 ]; then "${sudo[@]}" rm -f /usr/sbin/policy-rc.d; fi
		rm -f "$apt_log"
	}
	trap cleanup EXIT
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
		"${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
		policy_added=1
	fi
	# Quiet: apt's and dpkg's output is shown only when they fail.
	apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o Dpkg::Use-Pty=0)
	if ! { "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
		cat "$apt_log" >&2
		echo "install-queue-deps: apt-get failed" >&2
		exit 1
	fi
	echo "install-queue-deps: apt-get took $((SECONDS - start)) s" >&2
fi

redis=$(command -v redis-server) || { echo "install-queue-deps: redis-server still missing" >&2; exit 1; }
pgbin=$(find_pg_bin) || { echo "install-queue-deps: PostgreSQL binaries still missing" >&2; exit 1; }
if [ "$(id -u)" -eq 0 ] && ! id -u postgres >/dev/null 2>&1; then
	echo "install-queue-deps: running as root but there is no 'postgres' user for initdb" >&2
	exit 1
fi
echo "TRUEDY_QUEUE_DEP redis=$redis"
echo "TRUEDY_QUEUE_DEP pgbin=$pgbin"
