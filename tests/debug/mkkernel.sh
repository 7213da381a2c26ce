#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkkernel.sh          build make check-debug's kernel unless it is
#                      cached; print its release (7.3.4-gdl-debug)
# mkkernel.sh --path   print the release when it is built; exit 1 when
#                      not (nothing is built)
#
# The kernel: Debian's linux-source-7.3, configured x86_64_defconfig +
# kernel/configs/kvm_guest.config + tests/debug/debug.config (lockdep,
# KASAN, might-sleep, rcu_head debug objects, the dmem controller), built
# in the "debugkernel" test root (tests/roots/debugkernel.pkgs, made
# first when missing) and installed there like a packaged kernel:
# /boot/vmlinuz-KVER and config-KVER, /lib/modules/KVER with its build
# tree as "build".  tests/vm/kernels.sh then finds it like any root's
# kernel, but lists it only under GDL_DEBUG_KERNEL=1 (make check-debug).
# It is cached in that root, keyed by debug.config and this script;
# about 30 minutes on two cores (README, Tests).  Needs root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
die() { echo "mkkernel: $*" >&2; exit 1; }

only_path=0
if [ "${1:-}" = --path ]; then
	only_path=1
	shift
fi
[ $# -eq 0 ] || die "usage: $0 [--path]"

key=$(cat "$here/debug.config" "$0" | sha256sum | cut -c1-12)
if [ $only_path = 1 ]; then
	r=$("$top/tests/roots/mkroot.sh" --path debugkernel) || exit 1
	[ -s "$r/usr/src/gdl-debug/.gdl-kernel-$key" ] || exit 1
	cat "$r/usr/src/gdl-debug/.gdl-kernel-$key"
	exit 0
fi
r=$("$top/tests/roots/mkroot.sh" debugkernel)
stamp=$r/usr/src/gdl-debug/.gdl-kernel-$key
[ -s "$stamp" ] && { cat "$stamp"; exit 0; }

exec 9>"$r/.gdl-kernel.lock"
flock 9
[ -s "$stamp" ] && { cat "$stamp"; exit 0; }

log=$r/usr/src/gdl-debug.log
t0=$(date +%s)
echo "mkkernel: building the debug kernel in $r (log: $log); about 30 minutes on two cores" >&2
# The inner script runs chrooted; $1 is the fragment's path, the same
# inside (in-root.sh binds this clone at its own path).
# shellcheck disable=SC2016	# the inner shell expands them
if ! "$top/tests/roots/in-root.sh" "$r" sh -c '
	set -e
	frag=$1
	src=/usr/src/linux-source-7.3
	obj=/usr/src/gdl-debug
	cd /usr/src
	rm -rf "$src" "$obj"
	tar xf linux-source-7.3.tar.xz
	mkdir -p "$obj"
	make -s -C "$src" O="$obj" x86_64_defconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
		"$src/kernel/configs/kvm_guest.config" "$frag"
	make -s -C "$src" O="$obj" olddefconfig
	# Every line of the fragment must hold after olddefconfig: an option
	# whose dependencies are missing is dropped without a word.
	lost=
	while read -r line; do
		case $line in
		CONFIG_*=*) grep -qx -- "$line" "$obj/.config" || lost="$lost $line" ;;
		"# CONFIG_"*" is not set")
			o=${line#\# }
			o=${o%% *}
			! grep -q "^$o=" "$obj/.config" || lost="$lost $line" ;;
		esac
	done <"$frag"
	[ -z "$lost" ] || { echo "mkkernel: olddefconfig dropped:$lost" >&2; exit 1; }
	make -C "$src" O="$obj" -j"$(nproc)" bzImage modules
	kver=$(make -s -C "$src" O="$obj" kernelrelease)
	rm -rf "/lib/modules/$kver"
	make -s -C "$src" O="$obj" INSTALL_MOD_STRIP=1 modules_install
	install -m 644 "$obj/arch/x86/boot/bzImage" "/boot/vmlinuz-$kver"
	install -m 644 "$obj/.config" "/boot/config-$kver"
	# Relative, as Debian links its headers: the link then resolves
	# from outside the root too (/lib is usr/lib there: ../../.. is /usr).
	ln -sfn "../../../src/gdl-debug" "/lib/modules/$kver/build"
	echo "$kver" >"$obj/.gdl-kernel-release"
' mkkernel "$here/debug.config" >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "building the debug kernel failed (log: $log)"
fi
mv "$r/usr/src/gdl-debug/.gdl-kernel-release" "$stamp"
echo "mkkernel: $(cat "$stamp") built in $(($(date +%s) - t0))s" >&2
cat "$stamp"
