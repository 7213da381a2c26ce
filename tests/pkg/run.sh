#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/pkg/run.sh: the packaging tier of "make check" (root), on Debian
# 12 (the host) and Debian 13 (the cached test root, tests/roots/trixie).
#
# The real install path, end to end, split between the two so that no
# slow step runs twice (make check must fit 45 minutes on two cores; each
# DKMS pass builds once per kernel, and the Debian 13 root has two kernels
# to the host's three):
#
# On the Debian 12 host (DKMS 3.0; its kernels 6.1, 6.1-rt and 6.12):
#   1. build the .debs (make deb) and lint them (lintian: no error, no
#      warning that is not overridden with a reason), and the .rpms (make
#      rpm; rpmlint: no error; file lists and scriptlets checked); in both,
#      the library's real name follows the newest GDLOCK_0.N node of its
#      map, and the systemd units (boot, gc timer) are shipped and hooked
#      into the maintainer scripts; the Slurm plugin depends on the host's
#      Slurm (22.05);
#   2. apt-get install the .debs: DKMS builds and installs the module for
#      every installed kernel with headers; the installed units pass
#      systemd-analyze verify and are enabled (the VM guests boot busybox,
#      not systemd: guest.sh runs the boot unit's commands itself);
#   3. boot every host kernel in QEMU with two edu devices and run
#      guest.sh: modprobe loads the DKMS-built module with the packaged
#      modprobe.d options, the real systemd-udevd applies the packaged
#      rule, and gpu-dma-lock-ctl status/selftest pass;
#   4. apt-get remove, then purge: the module is gone from every kernel and
#      no file is left behind.
# On Debian 13 (DKMS 3.2, debhelper 13.24, lintian 2.122; the 7.3 kernel
# from trixie-backports), in a writable overlayfs on the cached root
# (lower: the cached root, which stays pristine for the other tiers and
# kernels.sh; upper and work: $build/pkg13-root), chrooted with /dev,
# /proc and /sys (tests/roots/in-root.sh).  Building and DKMS run natively
# in that chroot: a TCG guest would compile about ten times slower.  Apt
# there uses the root's own sources (never the host's), after an
# apt-get update that runs in the background from the tier's start, with
# the download of the 6.12 kernel (network time, not CPU).
#   5. build the .debs there with Debian 13's tools (dpkg-buildpackage in
#      a copy made by make deb-tree: the root has no git) and lint them
#      with Debian 13's lintian, to the same rule; the same content
#      checks, with the units in /usr/lib (merged /usr, dh_movetousr) and
#      the Slurm plugin depending on Debian 13's Slurm (24.11);
#   6. apt-get install them: DKMS 3.2 builds for 7.3; its first build
#      there makes its module-signing key pair, unasked, and signs;
#   7. install Debian 13's own kernel (linux-image-amd64 and
#      linux-headers-amd64 from trixie: 6.12): DKMS builds for it through
#      the kernel's own hook ("a kernel upgrade rebuilds it");
#   8. upgrade to a newer package version (a changelog entry added in the
#      build copy): only the new version is left in DKMS, for both
#      kernels, and it loads in a 7.3 guest booted on the overlay
#      (vm-run.sh -r), signed by DKMS's key;
#   9. apt-get remove, then purge: as in 4 (DKMS's key pair stays: DKMS's
#      state, not ours).
# The kernels' initramfs generators are skipped in the chroot (INITRD=No):
# the guests boot vm-run.sh's own initramfs, never the distribution's.
#
# Idempotent: it purges what an earlier run left on the host (our
# packages; a 6.12 RT kernel that older versions of this tier installed)
# and drops an earlier run's overlay first.  The host is not its to
# change: on the way out, even when interrupted (a trap on EXIT, INT,
# TERM, HUP), it stops its background job, unmounts and deletes the
# overlay, purges our packages, and deletes the gpu-dma-lock group only if
# it made it (a group that was there before is left, and the check that
# the packages make it is then counted as skipped).  The guests see an
# empty /etc/modprobe.d, so a host's own entries cannot change what they
# test.  Ends with the per-step timings and "pkg: N passed, M failed, K
# skipped" (N, M, K count checks).
#
# run.sh host | run.sh trixie: one Debian's part only.  make check runs
# them as two tiers: "pkg13" (trixie: all in the overlay, nothing on the
# host) in a lane beside the other tiers, and "pkg" (host) alone at the
# end, since it installs packages on the host the other tiers' guests
# share.  Each ends with its own count line (pkg13: ..., pkg: ...).
#
# GDL_PKG_PREBUILD: passed to make deb/rpm as PKG_PREBUILD (development aid).
set -u
part=${1:-all}
case $part in
all | host) tier=pkg ;;
trixie) tier=pkg13 ;;
*) echo "usage: $0 [host|trixie]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
export DEBIAN_FRONTEND=noninteractive
logs=$build/$tier-test
rm -rf "$logs"
mkdir -p "$logs"
prebuild=${GDL_PKG_PREBUILD:-}

pass=0
fail=0
skip=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() {	# check DESCRIPTION COMMAND...: the command's output goes to the log
	local d=$1
	shift
	if "$@" >>"$logs/checks.log" 2>&1; then ok "$d"; else bad "$d"; fi
}
t_all=$(date +%s)
t_step=$t_all
cur=
timings=()
step() {
	local now
	now=$(date +%s)
	[ -n "$cur" ] && timings+=("$(printf '%-34s %4ds' "$cur" $((now - t_step)))")
	cur=$1
	t_step=$now
	[ -n "$cur" ] && echo "=== $cur"
}
finish() {
	step ""
	echo
	echo "$tier: per-step timings (logs in $logs/):"
	printf '  %s\n' "${timings[@]}"
	printf '  %-34s %4ds\n' total $(($(date +%s) - t_all))
	echo "$tier: $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}
# Other jobs on the machine may hold the dpkg lock for a while: wait for it.
apt_q() { apt-get -y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=900 "$@"; }

if [ "$(id -u)" != 0 ]; then
	bad "tests/pkg/run.sh must run as root"
	finish
fi

OURS=(gpu-dma-lock-dkms gpu-dma-lock-utils libgpudmalock0 libgpudmalock-dev
	python3-gpudmalock librust-gpu-dma-lock-dev gpu-dma-lock-slurm)
NAMES='gpu[-_]dma[-_]lock|gpudmalock'
# The 6.12 RT kernel that older versions of this tier installed on the
# host: a killed run of one may have left it (the clean slate purges it).
OLDK_RE='6\.12[-.0-9+a-z]*-(rt-amd64|common-rt)'
VERSION=$(make -s version)
UPGRADE_VERSION=$VERSION+pkgtest1

# Debian 13: the cached root, the overlay this tier works in, the kernel
# it installs there (Debian 13's 6.12: the packages and the paths, whose
# names carry its version) and where the .debs are built.
R13=$(tests/roots/mkroot.sh --path trixie 2>/dev/null)
ovl=$build/pkg13-root
M13=$ovl/merged
NEWK13_PKGS=(linux-image-amd64 linux-headers-amd64)
NEWK13_RE='6\.12\.[0-9]+\+deb13'
K13=7.3.4+deb13-amd64
out13=$build/pkg13
up13=$build/pkg13-upgrade

# Packages in dpkg's database (installed or only config files left).
known() { dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null | awk '$2 ~ /^[a-z][a-zA-Z]/ && $2 != "un" {print $1}'; }
dkms_versions() { dkms status -m gpu-dma-lock 2>/dev/null | sed -n 's|^gpu-dma-lock/\([^,:]*\)[,:].*|\1|p' | sort -u; }
# A command in the Debian 13 overlay (a clean environment: in-root.sh),
# stdin closed so nothing can wait for an answer.  INITRD=No: the
# kernels' postinst hooks make no initramfs (see the header).
in13() { "$root"/tests/roots/in-root.sh "$M13" env DEBIAN_FRONTEND=noninteractive INITRD=No "$@" </dev/null; }
apt13() { in13 apt-get -y -q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=900 "$@"; }
known13() { in13 dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null | awk '$2 ~ /^[a-z][a-zA-Z]/ && $2 != "un" {print $1}'; }
dkms_versions13() { in13 dkms status -m gpu-dma-lock 2>/dev/null | sed -n 's|^gpu-dma-lock/\([^,:]*\)[,:].*|\1|p' | sort -u; }
# The overlay: mounted in this namespace (the guests' QEMU reads it), so
# it is unmounted on every way out (restore); an earlier run's goes first.
ovl_down() {
	if mountpoint -q "$M13" 2>/dev/null; then
		umount "$M13" 2>/dev/null || umount -l "$M13"
	fi
	# Never delete through a mounted overlay.
	mountpoint -q "$M13" 2>/dev/null || rm -rf "$ovl"
}
ovl_up() {
	ovl_down
	mkdir -p "$ovl/upper" "$ovl/work" "$M13" &&
		mount -t overlay overlay -o "lowerdir=$R13,upperdir=$ovl/upper,workdir=$ovl/work" "$M13"
}
# DKMS's module-signing key pair under ROOT.  DKMS makes it the first time
# it builds anything on a machine and keeps it for every later build: it
# is DKMS's state, not ours, so it may appear between the snapshots below
# on a machine that never built a DKMS module, and stays on one that did
# (Debian 12's DKMS 3.0 and Debian 13's 3.2 alike).  The paths are the
# ones DKMS itself reads (framework.conf, then its .d/).
dkms_key_files() {	# dkms_key_files [ROOT]
	local r=${1:-} key=/var/lib/dkms/mok.key cert=/var/lib/dkms/mok.pub f line
	for f in "$r"/etc/dkms/framework.conf "$r"/etc/dkms/framework.conf.d/*.conf; do
		[ -r "$f" ] || continue
		while IFS= read -r line; do
			case $line in
			mok_signing_key=*) key=${line#*=} ;;
			mok_certificate=*) cert=${line#*=} ;;
			esac
		done <"$f"
	done
	printf '%s\n' "$key" "$cert"
}
# Our files (and directories' files) in the places packages put things
# under ROOT (default /; paths printed as seen from it), less DKMS's own
# key pair (see above).
snapshot() {	# snapshot [ROOT]
	local r=${1:-} d dirs=()
	for d in /lib/modules /usr/src /var/lib/dkms /usr/lib/udev/rules.d \
		/usr/lib/modprobe.d /usr/lib/modules-load.d /usr/lib/sysusers.d \
		/usr/sbin /usr/include /usr/lib/x86_64-linux-gnu /usr/lib64 \
		/usr/share/doc /usr/share/man /etc/modprobe.d /etc/udev \
		/etc/modules-load.d /usr/lib/python3/dist-packages /usr/share/cargo/registry \
		/lib/systemd/system /usr/lib/systemd/system /etc/systemd \
		/var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked; do
		dirs+=("$r$d")
	done
	find "${dirs[@]}" \( -type f -o -type l \) 2>/dev/null | sed "s|^$r/|/|" |
		grep -vxF -f <(dkms_key_files "$r") | sort
}
ko_files() { find "${1:-}"/lib/modules -name 'gpu_dma_lock.ko*' 2>/dev/null; }	# ko_files [ROOT]

# ---------------------------------------------------------------------
step "tools"
need=()
for p in dkms dh-dkms debhelper dh-python lintian rpm rpmlint dpkg-dev fakeroot \
	build-essential libkmod-dev pkgconf qemu-system-x86 busybox-static \
	kmod cpio xz-utils util-linux linux-headers-amd64 linux-headers-6.12-amd64 \
	linux-image-amd64 linux-image-6.12-amd64 linux-image-rt-amd64 linux-headers-rt-amd64; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}"
	apt_q update >"$logs/tools.log" 2>&1
	apt_q install --no-install-recommends "${need[@]}" >>"$logs/tools.log" 2>&1
fi
check "build and test tools installed" sh -c 'command -v dpkg-buildpackage && command -v dh_dkms && command -v lintian && command -v rpmbuild && command -v rpmlint && command -v dkms'
# The Debian 13 root (make deps builds it; the 7.3 tiers boot it too).
have13=0
if [ "$part" = host ]; then
	:
elif [ -n "$R13" ] && [ -d "$R13" ]; then
	have13=1
	ok "Debian 13 root: $R13"
else
	bad "no Debian 13 root (tests/roots/mkroot.sh trixie, make deps): its part is not run"
fi

# ---------------------------------------------------------------------
step "clean slate"
# A run that was killed (SIGKILL, a machine snapshot taken mid-run) can
# leave our packages unpacked or half configured, and dpkg marked as
# interrupted: apt-get then refuses everything until `dpkg --configure
# -a`, which would first build the leftover DKMS package for every
# kernel.  dpkg --purge removes packages in any of those states, and
# orders the removals within one call; --configure -a then only finishes
# what is left (triggers, a half-installed kernel).
purge_ours() {
	local p
	mapfile -t p < <(known "${OURS[@]}")
	[ ${#p[@]} -eq 0 ] || { echo "purging ${p[*]}"; dpkg --purge "${p[@]}"; }
	dpkg --configure -a
	for v in $(dkms_versions); do dkms remove -m gpu-dma-lock -v "$v" --all; done
}
purge_oldk() {
	local k
	mapfile -t k < <(known 'linux-image-*' 'linux-headers-*' | grep -E -- "$OLDK_RE")
	[ ${#k[@]} -eq 0 ] && return 0
	echo "purging ${k[*]} (left by an older run of this tier)"
	apt_q purge "${k[@]}"
}
{
	[ "$part" = trixie ] || { purge_ours; purge_oldk; }
	[ "$part" = host ] || ovl_down
} >"$logs/clean.log" 2>&1
# The group the packages create (sysusers.d, or %pre for RPM) outlives a
# purge (Debian never removes system groups).  One that is there already
# is the host's: it stays, and "the packages make it" cannot be tested.
# A run that finds no group leaves a mark until its restore removes the
# group, so the group a killed run made is told from the host's and goes.
group_mark=/var/lib/gpu-dma-lock-pkgtest/group-made-by-a-run
if [ "$part" != trixie ] && [ -e $group_mark ]; then
	getent group gpu-dma-lock >/dev/null && groupdel gpu-dma-lock >>"$logs/clean.log" 2>&1
	rm -f $group_mark
fi
# (The trixie part leaves the host's group alone: group_before=1.)
group_before=0
{ [ "$part" = trixie ] || getent group gpu-dma-lock >/dev/null; } && group_before=1
[ $group_before = 1 ] || { mkdir -p "${group_mark%/*}" && : >$group_mark; }
# restore: what this tier changed on the host goes back, however it ends.
# The background job stops (its process group: apt in the chroot), the
# overlay goes, our packages are purged (the clean slate above had none),
# and the group goes only if this run made it.
restored=0
bg13=
restore() {
	[ $restored = 1 ] && return
	restored=1
	trap - EXIT INT TERM HUP
	{
		if [ -n "$bg13" ]; then
			kill -- -"$bg13" 2>/dev/null
			wait "$bg13"
		fi
		ovl_down
		[ "$part" = trixie ] || purge_ours
		if [ $group_before = 0 ]; then
			getent group gpu-dma-lock >/dev/null && groupdel gpu-dma-lock
			rm -f $group_mark
		fi
	} >>"$logs/restore.log" 2>&1
}
trap 'restore; exit 130' INT TERM HUP
trap restore EXIT
if [ $group_before = 1 ] && [ "$part" != trixie ]; then
	skip=$((skip + 1))
	echo "skip group gpu-dma-lock exists before install (the host's; left alone): that the packages make it is not tested"
fi
if [ "$part" != trixie ]; then
	check "no package of ours, no 6.12 RT kernel" sh -c "! dpkg -l | awk '\$1 != \"un\"' | grep -Eq ' (${OURS[*]// /|}|linux-image-6.12-rt-amd64) '"
	check "no gpu_dma_lock.ko left in /lib/modules" test -z "$(ko_files)"
fi
[ "$part" = host ] || check "no overlay left on the Debian 13 root" test ! -e "$ovl"
mapfile -t kernels < <(tests/vm/kernels.sh --of host)
echo "kernels with headers: ${kernels[*]}"

# ---------------------------------------------------------------------
[ $have13 = 1 ] && step "13: overlay; apt-get update (bg)"
# The Debian 13 root's apt lists (emptied in the cached root) and the 6.12
# kernel's packages come over the network: fetched in the background (its
# own process group, which restore stops) while the host's part runs.
# The timing of this step is the overlay's mount; "13: wait for apt"
# says how long the rest kept the tier waiting.
prefetch13() {
	apt13 -o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false update &&
		apt13 install --download-only --no-install-recommends "${NEWK13_PKGS[@]}"
}
if [ $have13 = 1 ]; then
	if ovl_up >"$logs/d13-overlay.log" 2>&1; then
		ok "13: overlay on the Debian 13 root mounted at $M13"
		set -m
		prefetch13 >"$logs/d13-prefetch.log" 2>&1 &
		bg13=$!
		set +m
	else
		bad "13: mounting the overlay (see $logs/d13-overlay.log)"
		have13=0
	fi
fi

# The checks both Debians run on their .debs.
# find_debs DIR VERSION: our .debs in DIR, in the order of OURS, into
# found[]; one missing fails.
find_debs() {
	local p f
	found=()
	for p in "${OURS[@]}"; do
		f=$(ls "$1/${p}_${2}-"*.deb 2>/dev/null | head -n 1)
		if [ -n "$f" ]; then found+=("$f"); else bad "no $p .deb built in $1"; fi
	done
	[ ${#found[@]} -eq ${#OURS[@]} ]
}
# lint PREFIX CHANGES LOG COMMAND...: lintian (run as COMMAND) on CHANGES.
# Lintian exits 0 when it checked, 2 when it checked and found what
# --fail-on names (errors, by default), 1 when it could not check (no
# .changes, say): 1 fails at once, and 0 or 2 leave the greps below to
# say what it found.
lint() {
	local pfx=$1 changes=$2 log=$3 lrc
	shift 3
	"$@" lintian -I --tag-display-limit 0 "${changes:-/nonexistent.changes}" >"$log" 2>&1
	lrc=$?
	sed 's/^/  /' "$log"
	check "${pfx}lintian checked ${changes##*/} (exit status $lrc: 0, or 2 for an error)" test -n "$changes" -a "$lrc" != 1
	check "${pfx}lintian: no error (exit status $lrc)" sh -c "[ $lrc = 0 ] && ! grep -q '^E:' '$log'"
	check "${pfx}lintian: no warning that is not overridden" sh -c "[ $lrc != 1 ] && ! grep -q '^W:' '$log'"
}
# deb_contents PREFIX UNITDIR SLURM_HEADER DEB...: what the .debs (in the
# order of OURS) hold.  UNITDIR: where the systemd units go (Debian 12:
# /lib/systemd/system; 13: /usr/lib/systemd/system, merged /usr);
# SLURM_HEADER: the slurm_version.h of the Slurm built against.
deb_contents() {
	local pfx=$1 unitdir=$2 slurmh=$3 tag f u
	shift 3
	local d=("$@")
	tag=${pfx%: }
	tag=${tag:+$tag-}
	local dkmsdeb=${d[0]:-/nonexistent}
	dpkg-deb -c "$dkmsdeb" | awk '{print $6}' | sed 's|^\.||' >"$logs/${tag}dkms-deb.txt"
	for f in /usr/src/gpu-dma-lock-$VERSION/dkms.conf /usr/src/gpu-dma-lock-$VERSION/src/Kbuild \
		/usr/src/gpu-dma-lock-$VERSION/src/uapi/gpu_dma_lock.h \
		/usr/lib/udev/rules.d/60-gpu-dma-lock.rules /usr/lib/modprobe.d/gpu-dma-lock.conf \
		/usr/lib/modules-load.d/gpu-dma-lock.conf /usr/lib/sysusers.d/gpu-dma-lock.conf; do
		check "${pfx}gpu-dma-lock-dkms ships $f" grep -qx "$f" "$logs/${tag}dkms-deb.txt"
	done
	check "${pfx}gpu-dma-lock-dkms ships nothing in /etc and no build output" \
		sh -c "! grep -Eq '^/etc/|\\.(o|ko|cmd)\$|mod\\.c\$' '$logs/${tag}dkms-deb.txt'"
	dpkg-deb --fsys-tarfile "$dkmsdeb" | tar -xO "./usr/src/gpu-dma-lock-$VERSION/dkms.conf" >"$logs/${tag}dkms.conf" 2>/dev/null
	check "${pfx}dkms.conf: PACKAGE_VERSION=\"$VERSION\" (from debian/changelog)" grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$logs/${tag}dkms.conf"
	check "${pfx}dkms.conf: AUTOINSTALL=yes, BUILD_EXCLUSIVE_KERNEL_MIN, no CLEAN, no placeholder" \
		sh -c "grep -qx 'AUTOINSTALL=\"yes\"' '$logs/${tag}dkms.conf' && grep -q '^BUILD_EXCLUSIVE_KERNEL_MIN=' '$logs/${tag}dkms.conf' && ! grep -Eq '^CLEAN|#MODULE_VERSION#' '$logs/${tag}dkms.conf'"
	check "${pfx}gpu-dma-lock-dkms is Architecture: all, depends on dkms" \
		sh -c "dpkg-deb -f '$dkmsdeb' Architecture | grep -qx all && dpkg-deb -f '$dkmsdeb' Depends | grep -q dkms"
	check "${pfx}gpu-dma-lock-utils ships /usr/sbin/gpu-dma-lock-ctl" \
		sh -c "dpkg-deb -c '${d[1]:-/nonexistent}' | grep -q '\./usr/sbin/gpu-dma-lock-ctl\$'"
	check "${pfx}libgpudmalock0 ships libgpudmalock.so.0" \
		sh -c "dpkg-deb -c '${d[2]:-/nonexistent}' | grep -q 'libgpudmalock\.so\.0'"
	check "${pfx}python3-gpudmalock ships the gpudmalock module" \
		sh -c "dpkg-deb -c '${d[4]:-/nonexistent}' | grep -q '/usr/lib/python3/dist-packages/gpudmalock/__init__\.py\$'"
	check "${pfx}gpu-dma-lock-slurm ships the SPANK plugin where slurmd looks" \
		sh -c "dpkg-deb -c '${d[6]:-/nonexistent}' | grep -q '/usr/lib/x86_64-linux-gnu/slurm-wlm/gpu_dma_lock\.so\$'"
	# Slurm loads no plugin built for another release: the package says
	# which (Debian 12: 22.05; 13: 24.11).
	local rel next
	rel=$(utils/slurm/release.sh "$slurmh")
	next=$(utils/slurm/release.sh --next "$slurmh")
	check "${pfx}gpu-dma-lock-slurm depends on the Slurm release it was built for ($rel, not $next)" \
		sh -c "test -n '$rel' && dpkg-deb -f '${d[6]:-/nonexistent}' Depends | grep -qF 'slurm-wlm-basic-plugins (>= $rel~), slurm-wlm-basic-plugins (<< $next~)'"
	check "${pfx}librust-gpu-dma-lock-dev ships the crate in Debian's cargo registry" \
		sh -c "dpkg-deb -c '${d[5]:-/nonexistent}' | grep -q '/usr/share/cargo/registry/gpu-dma-lock-$VERSION/Cargo\.toml\$'"

	# The library's real name follows its newest symbol node
	# (libgpudmalock.map); dh_makeshlibs' shlibs still names it by its
	# soname (there is no debian/libgpudmalock0.symbols, so the .deb has
	# no symbols file).
	local libdeb=${d[2]:-/nonexistent}
	dpkg-deb -c "$libdeb" | awk '{print $6}' >"$logs/${tag}lib-deb.txt"
	check "${pfx}deb: libgpudmalock0's file is named after GDLOCK_0.$LIBN (tests/pkg/libname.sh)" \
		tests/pkg/libname.sh $MAP "$logs/${tag}lib-deb.txt"
	check "${pfx}deb: libgpudmalock.so.0 -> libgpudmalock.so.0.$LIBN.0" \
		sh -c "dpkg-deb -c '$libdeb' | grep -q 'libgpudmalock\.so\.0 -> libgpudmalock\.so\.0\.$LIBN\.0\$'"
	rm -rf "$logs/${tag}libctl" && dpkg-deb -e "$libdeb" "$logs/${tag}libctl"
	check "${pfx}deb: shlibs maps libgpudmalock 0 to libgpudmalock0" \
		grep -Eq '^libgpudmalock 0 libgpudmalock0( |$)' "$logs/${tag}libctl/shlibs"
	check "${pfx}deb: gpu-dma-lock-utils depends on libgpudmalock0 (from shlibs)" \
		sh -c "dpkg-deb -f '${d[1]:-/nonexistent}' Depends | grep -q 'libgpudmalock0 (>= '"

	# The boot unit and gc's timer (docs/fleet.md): shipped, enabled by
	# the postinst; the timer started, the boot unit not (it loads the
	# module, which DKMS may not have built for the running kernel).
	local utilsdeb=${d[1]:-/nonexistent}
	dpkg-deb -c "$utilsdeb" | awk '{print $6}' | sed 's|^\.||' >"$logs/${tag}utils-deb.txt"
	for u in gpu-dma-lock.service gpu-dma-lock-gc.service gpu-dma-lock-gc.timer; do
		check "${pfx}gpu-dma-lock-utils ships $unitdir/$u" grep -qx "$unitdir/$u" "$logs/${tag}utils-deb.txt"
	done
	rm -rf "$logs/${tag}utilsctl" && dpkg-deb -e "$utilsdeb" "$logs/${tag}utilsctl"
	check "${pfx}deb utils postinst enables gpu-dma-lock.service and gpu-dma-lock-gc.timer" \
		sh -c "grep -q \"enable 'gpu-dma-lock.service'\" '$logs/${tag}utilsctl/postinst' && grep -q \"enable 'gpu-dma-lock-gc.timer'\" '$logs/${tag}utilsctl/postinst'"
	check "${pfx}deb utils postinst starts the timer, not the boot unit" \
		sh -c "grep -q \"deb-systemd-invoke .*'gpu-dma-lock-gc.timer'\" '$logs/${tag}utilsctl/postinst' && ! grep -q \"deb-systemd-invoke .*'gpu-dma-lock.service'\" '$logs/${tag}utilsctl/postinst'"
	check "${pfx}deb utils prerm stops the timer, postrm purges both" \
		sh -c "grep -q \"deb-systemd-invoke stop .*'gpu-dma-lock-gc.timer'\" '$logs/${tag}utilsctl/prerm' && grep -q \"purge 'gpu-dma-lock.service'\" '$logs/${tag}utilsctl/postrm' && grep -q \"purge 'gpu-dma-lock-gc.timer'\" '$logs/${tag}utilsctl/postrm'"
}
MAP=utils/lib/libgpudmalock.map
LIBN=$(sed -n 's/^GDLOCK_0\.\([0-9][0-9]*\) {.*/\1/p' $MAP | sort -n | tail -n 1)
SLURM_REL=$(utils/slurm/release.sh)
SLURM_NEXT=$(utils/slurm/release.sh --next)

boot() {	# boot KVER VERSION [ROOT]: ROOT, the guest's root (vm-run.sh -r)
	local kv=$1 v=$2 r=${3:-} out=$logs/vm-$1-$2.log t0 counts p f s
	t0=$(date +%s)
	# An empty /etc/modprobe.d: the host's own entries are not the test's.
	tests/vm/vm-run.sh -k "$kv" ${r:+-r "$r"} -e 2 -t 400 -- \
		"mount -t tmpfs -o mode=0755 tmpfs /etc/modprobe.d && bash tests/pkg/guest.sh $v" >"$out" 2>&1
	local rc=$?
	grep -E '^(FAIL|skip|vm-run:)' "$out" | sed 's/^/  /'
	counts=$(sed -n 's/^pkg-guest: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$out")
	read -r p f s <<<"${counts:-0 1 0}"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	if [ "$rc" -eq 0 ]; then
		ok "$kv booted with the DKMS-built $v: $p guest checks ($(($(date +%s) - t0))s)"
	else
		bad "$kv in the VM with $v (see $out)"
	fi
}
# left_from FILE...: what the dpkg -L lists FILE... name that is still
# there (under $2's root, when the lists are a chroot's).
left_from() {	# left_from ROOT LIST...
	local r=$1
	shift
	cat "$@" | sort -u | while IFS= read -r f; do
		if [ ! -d "$r$f" ] && { [ -L "$r$f" ] || [ -e "$r$f" ]; }; then echo "$f"; fi
	done
}

# =====================================================================
# Debian 12, on the host (run.sh trixie skips it, to the "fi" below).
if [ "$part" != trixie ]; then
# ---------------------------------------------------------------------
step "make deb"
if make deb ${prebuild:+PKG_PREBUILD="$prebuild"} >"$logs/deb.log" 2>&1; then
	ok "make deb"
else
	bad "make deb (see $logs/deb.log)"
	tail -n 20 "$logs/deb.log"
fi
if ! find_debs "$build/pkg" "$VERSION"; then
	echo "$tier: no packages, nothing more to test"
	finish
fi
debs=("${found[@]}")
ok "${#debs[@]} .debs: ${debs[*]##*/}"

step "lintian"
lint "" "$(ls "$build"/pkg/gpu-dma-lock_"$VERSION"-*.changes 2>/dev/null | head -n 1)" "$logs/lintian.log" env

step "deb contents"
deb_contents "" /lib/systemd/system /usr/include/slurm/slurm_version.h "${debs[@]}"

# ---------------------------------------------------------------------
step "make rpm"
if make rpm ${prebuild:+PKG_PREBUILD="$prebuild"} >"$logs/rpm.log" 2>&1; then
	ok "make rpm"
else
	bad "make rpm (see $logs/rpm.log)"
	tail -n 20 "$logs/rpm.log"
fi
rpmdir=$build/pkg/rpm/RPMS
rdkms=$(ls "$rpmdir"/noarch/gpu-dma-lock-dkms-"$VERSION"-*.noarch.rpm 2>/dev/null | head -n 1)
rutils=$(ls "$rpmdir"/*/gpu-dma-lock-utils-"$VERSION"-*.rpm 2>/dev/null | head -n 1)
check "noarch gpu-dma-lock-dkms and gpu-dma-lock-utils .rpms built" test -n "$rdkms" -a -n "$rutils"
rdkms=${rdkms:-/nonexistent}
rutils=${rutils:-/nonexistent}
rpmlint -r rpm/gpu-dma-lock.rpmlintrc "$rpmdir"/*/*.rpm >"$logs/rpmlint.log" 2>&1
sed 's/^/  /' "$logs/rpmlint.log"
check "rpmlint: no error" sh -c "grep -q 'packages and 0 specfiles checked; 0 errors' '$logs/rpmlint.log'"
{ rpm -qp --scripts "$rdkms"; } >"$logs/rpm-scripts.txt" 2>&1
rpm -qpl "$rdkms" >"$logs/rpm-dkms-files.txt" 2>&1
check "rpm: version-release from debian/changelog" \
	sh -c "rpm -qp --qf '%{VERSION}-%{RELEASE}' '$rdkms' | grep -qx '$VERSION-$(dpkg-parsechangelog -SVersion | sed 's/.*-//')'"
check "rpm dkms: Requires dkms" sh -c "rpm -qpR '$rdkms' | grep -qx dkms"
check "rpm dkms: %post is idempotent (dkms add ... || :, --rpm_safe_upgrade)" \
	sh -c "sed -n '/^postinstall/,/^preuninstall/p' '$logs/rpm-scripts.txt' | grep -q 'dkms add .*--rpm_safe_upgrade.*|| :'"
check "rpm dkms: %preun skips on upgrade (\$1 = 1)" \
	sh -c "sed -n '/^preuninstall/,\$p' '$logs/rpm-scripts.txt' | grep -q '\"\$1\" = 1 ] && exit 0'"
check "rpm dkms: %pre creates the gpu-dma-lock group" grep -q 'groupadd -r gpu-dma-lock' "$logs/rpm-scripts.txt"
for f in /usr/src/gpu-dma-lock-$VERSION/dkms.conf /usr/src/gpu-dma-lock-$VERSION/src/Kbuild \
	/usr/lib/udev/rules.d/60-gpu-dma-lock.rules /usr/lib/modprobe.d/gpu-dma-lock.conf \
	/usr/lib/modules-load.d/gpu-dma-lock.conf; do
	check "rpm dkms ships $f" grep -qx "$f" "$logs/rpm-dkms-files.txt"
done
check "rpm dkms: dkms.conf has PACKAGE_VERSION=\"$VERSION\"" \
	sh -c "rpm2cpio '$rdkms' | (cd '$logs' && rm -rf rpmx && mkdir rpmx && cd rpmx && cpio -idm --quiet) && grep -qx 'PACKAGE_VERSION=\"$VERSION\"' '$logs'/rpmx/usr/src/gpu-dma-lock-$VERSION/dkms.conf"
check "rpm utils ships /usr/sbin/gpu-dma-lock-ctl" sh -c "rpm -qpl '$rutils' | grep -qx /usr/sbin/gpu-dma-lock-ctl"
rslurm=$(ls "$rpmdir"/*/gpu-dma-lock-slurm-"$VERSION"-*.rpm 2>/dev/null | head -n 1)
check "rpm slurm: Requires the Slurm release it was built for ($SLURM_REL, not $SLURM_NEXT)" \
	sh -c "rpm -qpR '${rslurm:-/nonexistent}' >'$logs/rpm-slurm-requires.txt' && grep -qx 'slurm >= $SLURM_REL' '$logs/rpm-slurm-requires.txt' && grep -qx 'slurm < $SLURM_NEXT' '$logs/rpm-slurm-requires.txt'"
rlib=$(ls "$rpmdir"/*/libgpudmalock0-"$VERSION"-*.rpm 2>/dev/null | head -n 1)
rpm -qpl "${rlib:-/nonexistent}" >"$logs/lib-rpm.txt" 2>&1
check "rpm: libgpudmalock0's file is named after GDLOCK_0.$LIBN (tests/pkg/libname.sh)" \
	tests/pkg/libname.sh $MAP "$logs/lib-rpm.txt"
check "rpm: libgpudmalock0 provides libgpudmalock.so.0(GDLOCK_0.$LIBN)" \
	sh -c "rpm -qp --provides '${rlib:-/nonexistent}' | grep -q '^libgpudmalock\.so\.0(GDLOCK_0\.$LIBN)'"
rpm -qpl "$rutils" >"$logs/rpm-utils-files.txt" 2>&1
rpm -qp --scripts "$rutils" >"$logs/rpm-utils-scripts.txt" 2>&1
for u in gpu-dma-lock.service gpu-dma-lock-gc.service gpu-dma-lock-gc.timer; do
	check "rpm utils ships /usr/lib/systemd/system/$u" grep -qx "/usr/lib/systemd/system/$u" "$logs/rpm-utils-files.txt"
done
check "rpm utils: %post presets the boot unit and the timer (%systemd_post)" \
	grep -q 'preset gpu-dma-lock.service gpu-dma-lock-gc.timer' "$logs/rpm-utils-scripts.txt"
check "rpm utils: %preun disables and stops them on erase (%systemd_preun)" \
	sh -c "grep -q 'disable --now gpu-dma-lock.service gpu-dma-lock-gc.timer gpu-dma-lock-gc.service' '$logs/rpm-utils-scripts.txt'"

# ---------------------------------------------------------------------
step "dependencies, then the baseline"
# Installing our packages pulls in what they depend on from Debian (on a
# machine without systemd, systemd itself, for the sysusers.d file).  That
# is not ours, and apt leaves it when ours are purged: install it first and
# take the baseline after, so the file lists compare only what our
# packages bring.  A machine that has it all already installs nothing.
mapfile -t pulled < <(apt-get -s -q -o Dpkg::Use-Pty=0 install "${debs[@]}" 2>/dev/null |
	awk '/^Inst /{print $2}' | grep -vxF -f <(printf '%s\n' "${OURS[@]}"))
if [ ${#pulled[@]} -eq 0 ]; then
	ok "our packages need nothing more from Debian"
elif apt_q install "${pulled[@]}" >"$logs/deps.log" 2>&1; then
	ok "their dependencies installed first: ${pulled[*]}"
else
	bad "installing their dependencies ${pulled[*]} (see $logs/deps.log)"
	tail -n 20 "$logs/deps.log"
fi
snapshot >"$logs/files-before.txt"

# ---------------------------------------------------------------------
step "apt-get install"
if apt_q install "${debs[@]}" >"$logs/install.log" 2>&1; then
	ok "apt-get install ${debs[*]##*/}"
else
	bad "apt-get install (see $logs/install.log)"
	tail -n 30 "$logs/install.log"
fi
for p in "${OURS[@]}"; do dpkg -L "$p" 2>/dev/null; done | sort -u >"$logs/dpkg-L-$VERSION.txt"
echo "dkms status after installing the packages:"
dkms status -m gpu-dma-lock 2>/dev/null | tee "$logs/dkms-status-1.txt" | sed 's/^/  /'
for k in "${kernels[@]}"; do
	check "DKMS installed the module for $k" grep -q "^gpu-dma-lock/$VERSION, $k, .*: installed" "$logs/dkms-status-1.txt"
	check "/lib/modules/$k/updates/dkms/gpu_dma_lock.ko* has version $VERSION" \
		sh -c "modinfo -F version /lib/modules/'$k'/updates/dkms/gpu_dma_lock.ko* | grep -qx '$VERSION'"
done
[ $group_before = 1 ] || check "group gpu-dma-lock exists (sysusers.d made it)" getent group gpu-dma-lock
check "the packaged Python module imports and finds libgpudmalock" \
	/usr/bin/python3 -c "import gpudmalock, sys; sys.exit(0 if gpudmalock.__file__.startswith('/usr/lib/python3/dist-packages/') and gpudmalock.parse_size('2M') == 2 << 20 else 1)"
check "the installed ctl runs, and carries no RUNPATH" \
	sh -c "gpu-dma-lock-ctl --version && ! readelf -d /usr/sbin/gpu-dma-lock-ctl | grep -Eq 'RUNPATH|RPATH'"

# The units as installed: systemd-analyze verify checks their syntax, the
# commands they run and their man: links (no systemd runs here as PID 1).
units=(/lib/systemd/system/gpu-dma-lock.service /lib/systemd/system/gpu-dma-lock-gc.service
	/lib/systemd/system/gpu-dma-lock-gc.timer)
check "systemd-analyze verify: the boot unit, gc's service and timer" \
	sh -c "systemd-analyze verify ${units[*]} 2>&1 | tee '$logs/systemd-verify.txt'; ! grep -q . '$logs/systemd-verify.txt'"
check "gpu-dma-lock.service enabled (multi-user.target.wants)" \
	test -L /etc/systemd/system/multi-user.target.wants/gpu-dma-lock.service
check "gpu-dma-lock-gc.timer enabled (timers.target.wants)" \
	test -L /etc/systemd/system/timers.target.wants/gpu-dma-lock-gc.timer

# ---------------------------------------------------------------------
step "VM boots"
for k in "${kernels[@]}"; do boot "$k" "$VERSION"; done

# ---------------------------------------------------------------------
step "remove, purge"
if apt_q remove "${OURS[@]}" >"$logs/remove.log" 2>&1; then ok "apt-get remove"; else bad "apt-get remove (see $logs/remove.log)"; fi
check "dkms status knows no gpu-dma-lock after remove" test -z "$(dkms status -m gpu-dma-lock 2>/dev/null)"
check "no gpu_dma_lock.ko in any /lib/modules/* after remove" test -z "$(ko_files)"
check "/var/lib/dkms/gpu-dma-lock and /usr/src/gpu-dma-lock-* gone after remove" \
	sh -c "! ls -d /var/lib/dkms/gpu-dma-lock /usr/src/gpu-dma-lock-* 2>/dev/null | grep -q ."
for k in "${kernels[@]}"; do
	check "modprobe -S $k no longer finds gpu_dma_lock" sh -c "! modinfo -k '$k' gpu_dma_lock >/dev/null 2>&1"
done
# Without conffiles, dpkg forgets a removed package at once: purge what
# it still knows (nothing, today), and say so.
mapfile -t left < <(known "${OURS[@]}")
if [ ${#left[@]} -eq 0 ]; then
	ok "apt-get purge: nothing left to purge after remove (no conffiles)"
elif apt_q purge "${left[@]}" >"$logs/purge.log" 2>&1; then
	ok "apt-get purge ${left[*]}"
else
	bad "apt-get purge (see $logs/purge.log)"
fi
check "dpkg knows none of our packages after purge" test -z "$(known "${OURS[@]}")"
# Directories stay (shared with other packages), also where they are the
# usrmerge symlinks: the units put /lib in dpkg -L, and /lib -> usr/lib.
left_from "" "$logs"/dpkg-L-*.txt >"$logs/left-from-dpkg-L.txt"
check "no file from dpkg -L is left" test ! -s "$logs/left-from-dpkg-L.txt"
snapshot >"$logs/files-after.txt"
diff "$logs/files-before.txt" "$logs/files-after.txt" >"$logs/files-diff.txt"
check "file lists before install and after purge are the same" test ! -s "$logs/files-diff.txt"
check "no file named like ours is left" sh -c "! grep -Eq '$NAMES' '$logs/files-after.txt'"
[ -s "$logs/files-diff.txt" ] && sed 's/^/  /' "$logs/files-diff.txt" | head -n 20
# Debian does not remove system groups: the group goes if this run made it.
if [ $group_before = 0 ]; then
	getent group gpu-dma-lock >/dev/null && groupdel gpu-dma-lock >>"$logs/purge.log" 2>&1
	rm -f $group_mark
fi
check "the gpu-dma-lock group as before the tier ($([ $group_before = 1 ] && echo there || echo none))" \
	sh -c "[ \"\$(getent group gpu-dma-lock >/dev/null && echo 1 || echo 0)\" = $group_before ]"
check "kernel list as at the start (${#kernels[@]} kernels)" \
	test "$(tests/vm/kernels.sh --of host | tr '\n' ' ')" = "$(printf '%s ' "${kernels[@]}")"
fi	# Debian 12

# =====================================================================
# Debian 13, in the overlay (see the header).
[ $have13 = 1 ] || finish

step "13: wait for apt"
wait "$bg13"
brc=$?
bg13=
check "13: apt-get update and the 6.12 kernel's download, in the root (exit status $brc; see $logs/d13-prefetch.log)" test "$brc" = 0
check "13: Debian 13's debhelper, dh_dkms, lintian and DKMS in the root" \
	in13 sh -c 'command -v dpkg-buildpackage && command -v dh_dkms && command -v lintian && command -v dkms && dkms --version'

step "13: make deb"
# The build copy is made here (make deb-tree: git), the build runs in the
# root, with Debian 13's tools and libraries (Slurm 24.11's libslurm-dev).
build13() {	# build13 OUTDIR [PREBUILD]: make deb-tree, then dpkg-buildpackage in the root
	make deb-tree PKG_OUT="$1" PKG_PREBUILD="${prebuild:+$prebuild && }${2:-:}" &&
		(cd "$1/gpu-dma-lock-$VERSION" && in13 dpkg-buildpackage -us -uc -b)
}
if build13 "$out13" >"$logs/d13-deb.log" 2>&1; then
	ok "13: dpkg-buildpackage in the Debian 13 root"
else
	bad "13: dpkg-buildpackage in the Debian 13 root (see $logs/d13-deb.log)"
	tail -n 20 "$logs/d13-deb.log"
fi
if ! find_debs "$out13" "$VERSION"; then
	echo "$tier: 13: no packages, nothing more to test there"
	finish
fi
debs13=("${found[@]}")
ok "13: ${#debs13[@]} .debs: ${debs13[*]##*/}"

step "13: lintian"
lint "13: " "$(ls "$out13"/gpu-dma-lock_"$VERSION"-*.changes 2>/dev/null | head -n 1)" "$logs/d13-lintian.log" in13

step "13: deb contents"
deb_contents "13: " /usr/lib/systemd/system "$M13/usr/include/slurm/slurm_version.h" "${debs13[@]}"

# ---------------------------------------------------------------------
step "13: apt-get install"
# As on the host: what our packages pull in from Debian goes first, then
# the baseline.
mapfile -t pulled < <(in13 apt-get -s -q -o Dpkg::Use-Pty=0 install "${debs13[@]}" 2>/dev/null |
	awk '/^Inst /{print $2}' | grep -vxF -f <(printf '%s\n' "${OURS[@]}"))
if [ ${#pulled[@]} -eq 0 ]; then
	ok "13: our packages need nothing more from Debian 13"
elif apt13 install "${pulled[@]}" >"$logs/d13-deps.log" 2>&1; then
	ok "13: their dependencies installed first: ${pulled[*]}"
else
	bad "13: installing their dependencies ${pulled[*]} (see $logs/d13-deps.log)"
fi
snapshot "$M13" >"$logs/d13-files-before.txt"
in13 dpkg-query -W -f='${Package}\n' | sort >"$logs/d13-pkgs-before.txt"
mapfile -t keys13 < <(dkms_key_files "$M13")
check "13: no DKMS key pair in the root before our install (${keys13[*]}): DKMS's first build is ours" \
	sh -c "! ls '$M13${keys13[0]}' '$M13${keys13[1]}' 2>/dev/null | grep -q ."
if apt13 install "${debs13[@]}" >"$logs/d13-install.log" 2>&1; then
	ok "13: apt-get install ${debs13[*]##*/}"
else
	bad "13: apt-get install (see $logs/d13-install.log)"
	tail -n 30 "$logs/d13-install.log"
fi
for p in "${OURS[@]}"; do in13 dpkg -L "$p" 2>/dev/null; done | sort -u >"$logs/d13-dpkg-L-$VERSION.txt"
echo "13: dkms status after installing the packages:"
in13 dkms status -m gpu-dma-lock 2>/dev/null | tee "$logs/d13-dkms-status-1.txt" | sed 's/^/  /'
check "13: DKMS installed the module for $K13" grep -q "^gpu-dma-lock/$VERSION, $K13, .*: installed" "$logs/d13-dkms-status-1.txt"
check "13: /lib/modules/$K13/updates/dkms/gpu_dma_lock.ko* has version $VERSION" \
	sh -c "modinfo -F version '$M13'/lib/modules/'$K13'/updates/dkms/gpu_dma_lock.ko* | grep -qx '$VERSION'"
# DKMS 3.2's first run: it makes a self-signed key pair (openssl, no
# prompt, no MOK enrolment on Debian: only Ubuntu's branch runs
# update-secureboot-policy), signs with the kernel's sign-file, and says so.
check "13: DKMS 3.2's first build made its key pair (${keys13[*]}), unasked" \
	sh -c "test -s '$M13${keys13[0]}' && test -s '$M13${keys13[1]}' && grep -q 'generating self signed certificate' '$logs/d13-install.log'"
check "13: ...and signed the module with it" \
	sh -c "grep -q '^Signing module ' '$logs/d13-install.log' && modinfo -F signer '$M13'/lib/modules/'$K13'/updates/dkms/gpu_dma_lock.ko* | grep -qx 'DKMS module signing key'"
check "13: nothing asked: no mokutil, no enrolment, no password in the install's output" \
	sh -c "! grep -Eiq 'mokutil|enrol|password' '$logs/d13-install.log'"
check "13: group gpu-dma-lock made in the root (sysusers.d)" in13 getent group gpu-dma-lock
check "13: the packaged Python module imports and finds libgpudmalock" \
	in13 /usr/bin/python3 -c "import gpudmalock, sys; sys.exit(0 if gpudmalock.__file__.startswith('/usr/lib/python3/dist-packages/') and gpudmalock.parse_size('2M') == 2 << 20 else 1)"
check "13: the installed ctl runs" in13 gpu-dma-lock-ctl --version
check "13: systemd-analyze verify: the boot unit, gc's service and timer" \
	sh -c "'$root'/tests/roots/in-root.sh '$M13' systemd-analyze verify /usr/lib/systemd/system/gpu-dma-lock.service /usr/lib/systemd/system/gpu-dma-lock-gc.service /usr/lib/systemd/system/gpu-dma-lock-gc.timer </dev/null 2>&1 | tee '$logs/d13-systemd-verify.txt'; ! grep -q . '$logs/d13-systemd-verify.txt'"
check "13: gpu-dma-lock.service and gpu-dma-lock-gc.timer enabled" \
	test -L "$M13/etc/systemd/system/multi-user.target.wants/gpu-dma-lock.service" -a -L "$M13/etc/systemd/system/timers.target.wants/gpu-dma-lock-gc.timer"

# ---------------------------------------------------------------------
step "13: new kernel (6.12)"
if apt13 install --no-install-recommends "${NEWK13_PKGS[@]}" >"$logs/d13-newk-install.log" 2>&1; then
	ok "13: apt-get install ${NEWK13_PKGS[*]}"
else
	bad "13: installing ${NEWK13_PKGS[*]} (see $logs/d13-newk-install.log)"
	tail -n 30 "$logs/d13-newk-install.log"
fi
newk13=$(find "$M13/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -E -- "^$NEWK13_RE-amd64\$" | sort -V | tail -n 1)
kernels13=("$K13" ${newk13:+"$newk13"})
echo "13: dkms status after installing the kernel ${newk13:-?}:"
in13 dkms status -m gpu-dma-lock 2>/dev/null | tee "$logs/d13-dkms-status-2.txt" | sed 's/^/  /'
check "13: Debian 13's 6.12 with headers installed (${newk13:-none})" test -n "$newk13" -a -e "$M13/lib/modules/$newk13/build/include"
check "13: DKMS built the module for ${newk13:-it} from the kernel's hook" \
	grep -q "^gpu-dma-lock/$VERSION, ${newk13:-none}, .*: installed" "$logs/d13-dkms-status-2.txt"
check "13: the hook's build is in the kernel install's log" grep -q "gpu_dma_lock.ko" "$logs/d13-newk-install.log"
in13 dpkg-query -W -f='${Package}\n' | sort >"$logs/d13-pkgs-newk.txt"

# ---------------------------------------------------------------------
step "13: upgrade"
bump=$logs/bump-changelog.sh
cat >"$bump" <<EOF
#!/bin/sh
# Run in the build copy: a newer version, in debian/changelog only.
set -e
{ printf '%s\n\n  * %s\n\n -- %s  %s\n\n' \\
	"gpu-dma-lock ($UPGRADE_VERSION-1) unstable; urgency=medium" \\
	"Upgrade test build (tests/pkg/run.sh)." \\
	"\$(sed -n 's/^ -- \\(.*>\\)  .*/\\1/p' debian/changelog | head -n 1)" \\
	"\$(date -R)"; cat debian/changelog; } >debian/changelog.new
mv debian/changelog.new debian/changelog
EOF
if build13 "$up13" "sh $bump" >"$logs/d13-deb-upgrade.log" 2>&1; then
	ok "13: dpkg-buildpackage of $UPGRADE_VERSION"
else
	bad "13: dpkg-buildpackage of $UPGRADE_VERSION (see $logs/d13-deb-upgrade.log)"
	tail -n 20 "$logs/d13-deb-upgrade.log"
fi
updebs=()
for p in "${OURS[@]}"; do
	f=$(ls "$up13/${p}_${UPGRADE_VERSION}-"*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] && updebs+=("$f")
done
if [ ${#updebs[@]} -eq ${#OURS[@]} ] && apt13 install "${updebs[@]}" >"$logs/d13-upgrade.log" 2>&1; then
	ok "13: apt-get install (upgrade) to $UPGRADE_VERSION"
else
	bad "13: upgrade to $UPGRADE_VERSION (see $logs/d13-upgrade.log)"
	tail -n 30 "$logs/d13-upgrade.log" 2>/dev/null
fi
for p in "${OURS[@]}"; do in13 dpkg -L "$p" 2>/dev/null; done | sort -u >"$logs/d13-dpkg-L-$UPGRADE_VERSION.txt"
echo "13: dkms status after the upgrade:"
in13 dkms status -m gpu-dma-lock 2>/dev/null | tee "$logs/d13-dkms-status-3.txt" | sed 's/^/  /'
check "13: only $UPGRADE_VERSION is left in DKMS" test "$(dkms_versions13)" = "$UPGRADE_VERSION"
for k in "${kernels13[@]}"; do
	check "13: $UPGRADE_VERSION installed for $k" grep -q "^gpu-dma-lock/$UPGRADE_VERSION, $k, .*: installed" "$logs/d13-dkms-status-3.txt"
done
check "13: old source /usr/src/gpu-dma-lock-$VERSION removed" test ! -e "$M13/usr/src/gpu-dma-lock-$VERSION"

step "13: VM boot (7.3)"
# The upgraded module, DKMS-built and signed in the root, in a 7.3 guest
# booted on the overlay.
boot "$K13" "$UPGRADE_VERSION" "$M13"

# ---------------------------------------------------------------------
step "13: remove, purge"
if apt13 remove "${OURS[@]}" >"$logs/d13-remove.log" 2>&1; then ok "13: apt-get remove"; else bad "13: apt-get remove (see $logs/d13-remove.log)"; fi
check "13: dkms status knows no gpu-dma-lock after remove" test -z "$(in13 dkms status -m gpu-dma-lock 2>/dev/null)"
check "13: no gpu_dma_lock.ko in any /lib/modules/* after remove" test -z "$(ko_files "$M13")"
check "13: /var/lib/dkms/gpu-dma-lock and /usr/src/gpu-dma-lock-* gone after remove" \
	sh -c "! ls -d '$M13'/var/lib/dkms/gpu-dma-lock '$M13'/usr/src/gpu-dma-lock-* 2>/dev/null | grep -q ."
mapfile -t left < <(known13 "${OURS[@]}")
if [ ${#left[@]} -eq 0 ]; then
	ok "13: apt-get purge: nothing left to purge after remove (no conffiles)"
elif apt13 purge "${left[@]}" >"$logs/d13-purge.log" 2>&1; then
	ok "13: apt-get purge ${left[*]}"
else
	bad "13: apt-get purge (see $logs/d13-purge.log)"
fi
check "13: dpkg knows none of our packages after purge" test -z "$(known13 "${OURS[@]}")"
left_from "$M13" "$logs"/d13-dpkg-L-*.txt >"$logs/d13-left-from-dpkg-L.txt"
check "13: no file from dpkg -L of either version is left" test ! -s "$logs/d13-left-from-dpkg-L.txt"
# The 6.12 kernel stays in the overlay (it goes with it): its files, and
# those of what it pulled in, are not compared.
comm -13 "$logs/d13-pkgs-before.txt" "$logs/d13-pkgs-newk.txt" >"$logs/d13-pkgs-kernel.txt"
mapfile -t kpkgs < "$logs/d13-pkgs-kernel.txt"
{ [ ${#kpkgs[@]} -eq 0 ] || in13 dpkg -L "${kpkgs[@]}"; } 2>/dev/null | sort -u >"$logs/d13-files-kernel.txt"
snapshot "$M13" | grep -Ev -- "$NEWK13_RE" | grep -vxF -f "$logs/d13-files-kernel.txt" >"$logs/d13-files-after.txt"
diff "$logs/d13-files-before.txt" "$logs/d13-files-after.txt" >"$logs/d13-files-diff.txt"
check "13: file lists before install and after purge are the same" test ! -s "$logs/d13-files-diff.txt"
check "13: no file named like ours is left" sh -c "! grep -Eq '$NAMES' '$logs/d13-files-after.txt'"
[ -s "$logs/d13-files-diff.txt" ] && sed 's/^/  /' "$logs/d13-files-diff.txt" | head -n 20
if [ -e "$M13${keys13[0]}" ]; then
	echo "note: 13: DKMS's key pair (${keys13[*]}) outlives the purge: DKMS's state, kept for its next build, as DKMS 3.0 does"
fi

step "13: overlay down"
ovl_down
check "13: overlay unmounted and deleted" sh -c "! mountpoint -q '$M13' && test ! -e '$ovl'"
check "13: the cached root is untouched (no DKMS key, no source, no module of ours)" \
	sh -c "! ls '$R13${keys13[0]:-/var/lib/dkms/mok.key}' '$R13'/usr/src/gpu-dma-lock-* '$R13'/var/lib/dkms/gpu-dma-lock 2>/dev/null | grep -q . && test -z \"\$(find '$R13/lib/modules' -name 'gpu_dma_lock.ko*')\""

finish
