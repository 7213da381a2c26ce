#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing need, on Debian 12, as root.  Only
# missing packages are installed, so a second run costs one dpkg query.
# The kernels: Debian's default 6.1, the 6.12 backport flavour and the 6.1
# PREEMPT_RT flavour, each with its headers (the module is built against
# all of them and booted in QEMU).  The bindings tier: Debian's Rust
# toolchain (the crate needs no other crate; utils/rust/.cargo/config.toml
# allows none but Debian's registry) and pytest.  Slurm and munge: the
# slurm tier runs a one-node cluster in the VM; libslurm-dev has
# <slurm/spank.h>.  debootstrap: the Debian 13 test root
# (tests/roots/trixie.pkgs, Linux 7.3 with its gcc-14), built by
# tests/roots/mkroot.sh once and cached outside the clone.
#
# GDL_DEPS_ROOTS=background (make check): the roots are built in the
# background while the host's own packages install (debootstrap first),
# since both mostly wait on the archive and on unpacking, one core each;
# on a fresh 2-core machine that takes the roots' minutes out of make
# check's time.  tests/check.sh waits for them before the first tier that
# boots or builds for a kernel (mkroot.sh NAME blocks on the build's lock,
# and builds the root itself should the background build have failed).
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential bc kmod cpio busybox-static qemu-system-x86 util-linux
xz-utils python3 libcunit1-dev gcovr sparse linux-source-6.1 libkmod-dev valgrind
slurmctld slurmd slurm-client munge libslurm-dev
linux-image-amd64 linux-headers-amd64
linux-image-6.12-amd64 linux-headers-6.12-amd64
linux-image-rt-amd64 linux-headers-rt-amd64
cargo rustc python3-pytest
podman crun conmon debootstrap shellcheck"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
# GDL_DEPS_ROOTS=0 leaves the test roots alone (make demo boots the
# host's kernels only).
roots=
for list in tests/roots/*.pkgs; do
	[ "${GDL_DEPS_ROOTS:-1}" != 0 ] || break
	# "# on-demand" roots (make check-debug's) are built by their user.
	grep -qx '# on-demand' "$list" && continue
	name=${list##*/}
	name=${name%.pkgs}
	tests/roots/mkroot.sh --path "$name" >/dev/null || roots="$roots $name"
done
[ -z "$missing$roots" ] && { echo "deps: all installed"; exit 0; }

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing${roots:+ test roots:$roots} -- run 'make deps' as root, or install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
[ -n "$missing" ] && apt-get update -q
if [ -n "$roots" ] && [ "${GDL_DEPS_ROOTS:-1}" = background ]; then
	if ! command -v debootstrap >/dev/null; then
		apt-get install -y -q --no-install-recommends debootstrap
		missing=$(echo "$missing" | sed 's/ debootstrap\b//')
	fi
	log=${GDL_BUILD_DIR:-build}/deps-roots.log
	mkdir -p "${log%/*}"
	echo "deps: building test roots$roots in the background (log: $log)"
	# Its own session: nothing the foreground does to its process group
	# (a ^C aside) stops the build half-way, and the lock is its guard.
	# shellcheck disable=SC2086
	setsid sh -c 'for n; do tests/roots/mkroot.sh "$n" || exit 1; done' sh $roots >"$log" 2>&1 </dev/null &
	roots=
fi
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
for name in $roots; do
	echo "deps: building test root $name (tests/roots/$name.pkgs)"
	tests/roots/mkroot.sh "$name" >/dev/null
done
