#!/bin/sh
# deps.sh - the Debian 12 packages jalin needs to build and test.
#
#   tools/deps.sh check     print what is missing; exit 1 if anything is
#   tools/deps.sh install   apt-get install -y what is missing (sudo when
#                           not root; apt-get update first if apt does not
#                           know a package yet)
#
# One list, here: the Makefile (make deps, make check-deps) and .ci/run use it.
set -eu

PACKAGES="
build-essential
pkg-config
libssl-dev
liblmdb-dev
libmsgpack-dev
libevent-dev
libjansson-dev
libinih-dev
libcmocka-dev
lmdb-utils
python3
python3-pytest
python3-msgpack
python3-cryptography
openssl
clang-format
valgrind
lcov
groff-base
man-db
"

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = \
	    "install ok installed" ]
}

missing() {
	for p in $PACKAGES; do
		installed "$p" || printf '%s\n' "$p"
	done
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

# apt-cache knows a package only after an apt-get update on a fresh system.
known() {
	for p in "$@"; do
		apt-cache show "$p" >/dev/null 2>&1 || return 1
	done
}

case "${1:-}" in
check)
	m=$(missing)
	if [ -n "$m" ]; then
		echo "missing Debian packages:" $m >&2
		echo "run 'make deps' to install them" >&2
		exit 1
	fi
	;;
install)
	m=$(missing)
	[ -z "$m" ] && exit 0
	# shellcheck disable=SC2086
	known $m || as_root apt-get update
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends $m
	;;
*)
	echo "usage: tools/deps.sh check|install" >&2
	exit 2
	;;
esac
