#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/pkg/run.sh: the packaging tier of "make check" (root, Debian 12).
#
# The real install path, end to end:
#   1. build the .debs (make deb) and lint them (lintian: no error, no
#      warning that is not overridden with a reason), and the .rpms (make
#      rpm; rpmlint: no error; file lists and scriptlets checked); in both,
#      the library's real name follows the newest GDLOCK_0.N node of its
#      map, and the systemd units (boot, gc timer) are shipped and hooked
#      into the maintainer scripts;
#   2. apt-get install the .debs: DKMS builds and installs the module for
#      every installed kernel with headers; the installed units pass
#      systemd-analyze verify and are enabled (the VM guests boot busybox,
#      not systemd: guest.sh runs the boot unit's commands itself);
#   3. install another kernel and its headers (Debian's 6.12 PREEMPT_RT
#      flavour; the baseline from tests/deps.sh is 6.1, 6.12 and 6.1-rt):
#      DKMS builds for it through the kernel's own hook, no command of ours;
#   4. boot every kernel in QEMU with two edu devices and run guest.sh:
#      modprobe loads the DKMS-built module with the packaged modprobe.d
#      options, the real systemd-udevd applies the packaged rule, and
#      gpu-dma-lock-ctl status/selftest pass;
#   5. upgrade to a newer package version (a changelog entry added in the
#      build copy): only the new version is left in DKMS, for every kernel,
#      and it loads in the VM;
#   6. apt-get remove, then purge: the module is gone from every kernel and
#      no file is left behind.
# Idempotent: it purges what an earlier run left (our packages, the 6.12
# RT kernel) first.  The host is not its to change: on the way out, even
# when interrupted (a trap on EXIT, INT, TERM, HUP), it purges our
# packages and the 6.12 RT kernel, so the other tiers keep their kernel
# list, and deletes the gpu-dma-lock group only if it made it (a group
# that was there before is left, and the check that the packages make it
# is then counted as skipped).  The guests see an empty /etc/modprobe.d,
# so a host's own entries cannot change what they test.  Ends with
# "pkg: N passed, M failed, K skipped" (N, M, K count checks).
#
# GDL_PKG_PREBUILD: passed to make deb/rpm as PKG_PREBUILD (development aid).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
export DEBIAN_FRONTEND=noninteractive
logs=$build/pkg-test
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
	[ -n "$cur" ] && timings+=("$(printf '%-26s %4ds' "$cur" $((now - t_step)))")
	cur=$1
	t_step=$now
	[ -n "$cur" ] && echo "=== $cur"
}
finish() {
	step ""
	echo
	echo "pkg: per-step timings (logs in $logs/):"
	printf '  %s\n' "${timings[@]}"
	echo "  total                      $(($(date +%s) - t_all))s"
	echo "pkg: $pass passed, $fail failed, $skip skipped"
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
# The kernel this tier installs after the packages: its packages and
# paths (versioned names included).
NEWK_PKGS=(linux-image-6.12-rt-amd64 linux-headers-6.12-rt-amd64)
NEWK_RE='6\.12[-.0-9+a-z]*-(rt-amd64|common-rt)'
VERSION=$(make -s version)
UPGRADE_VERSION=$VERSION+pkgtest1

# Packages in dpkg's database (installed or only config files left).
known() { dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null | awk '$2 ~ /^[a-z][a-zA-Z]/ && $2 != "un" {print $1}'; }
dkms_versions() { dkms status -m gpu-dma-lock 2>/dev/null | sed -n 's|^gpu-dma-lock/\([^,:]*\)[,:].*|\1|p' | sort -u; }
# DKMS's module-signing key pair.  DKMS makes it the first time it builds
# anything on a machine and keeps it for every later build: it is DKMS's
# state, not ours, so it may appear between the snapshots below on a
# machine that never built a DKMS module, and stays on one that did.  The
# paths are the ones DKMS itself reads (framework.conf, then its .d/).
dkms_key_files() {
	local key=/var/lib/dkms/mok.key cert=/var/lib/dkms/mok.pub f line
	for f in /etc/dkms/framework.conf /etc/dkms/framework.conf.d/*.conf; do
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
# Our files (and directories' files) in the places packages put things,
# less DKMS's own key pair (see above).
snapshot() {
	find /lib/modules /usr/src /var/lib/dkms /usr/lib/udev/rules.d \
		/usr/lib/modprobe.d /usr/lib/modules-load.d /usr/lib/sysusers.d \
		/usr/sbin /usr/include /usr/lib/x86_64-linux-gnu /usr/lib64 \
		/usr/share/doc /usr/share/man /etc/modprobe.d /etc/udev \
		/etc/modules-load.d /usr/lib/python3/dist-packages /usr/share/cargo/registry \
		/lib/systemd/system /usr/lib/systemd/system /etc/systemd \
		/var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \( -type f -o -type l \) 2>/dev/null |
		grep -Ev -- "$NEWK_RE" | grep -vxF -f <(dkms_key_files) | sort
}
ko_files() { find /lib/modules -name 'gpu_dma_lock.ko*' 2>/dev/null; }

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
purge_newk() {
	local k
	mapfile -t k < <(known 'linux-image-*' 'linux-headers-*' | grep -E -- "$NEWK_RE")
	[ ${#k[@]} -eq 0 ] && return 0
	echo "purging ${k[*]}"
	apt_q purge "${k[@]}"
}
{ purge_ours; purge_newk; } >"$logs/clean.log" 2>&1
# The group the packages create (sysusers.d, or %pre for RPM) outlives a
# purge (Debian never removes system groups).  One that is there already
# is the host's: it stays, and "the packages make it" cannot be tested.
# A run that finds no group leaves a mark until its restore removes the
# group, so the group a killed run made is told from the host's and goes.
group_mark=/var/lib/gpu-dma-lock-pkgtest/group-made-by-a-run
if [ -e $group_mark ]; then
	getent group gpu-dma-lock >/dev/null && groupdel gpu-dma-lock >>"$logs/clean.log" 2>&1
	rm -f $group_mark
fi
group_before=0
getent group gpu-dma-lock >/dev/null && group_before=1
[ $group_before = 1 ] || { mkdir -p "${group_mark%/*}" && : >$group_mark; }
# restore: what this tier changed on the host goes back, however it ends.
# Our packages and the 6.12 RT kernel are purged (the clean slate above
# had neither), and the group goes only if this run made it.
restored=0
restore() {
	[ $restored = 1 ] && return
	restored=1
	trap - EXIT INT TERM HUP
	{
		purge_ours
		purge_newk
		if [ $group_before = 0 ]; then
			getent group gpu-dma-lock >/dev/null && groupdel gpu-dma-lock
			rm -f $group_mark
		fi
	} >>"$logs/restore.log" 2>&1
}
trap 'restore; exit 130' INT TERM HUP
trap restore EXIT
if [ $group_before = 1 ]; then
	skip=$((skip + 1))
	echo "skip group gpu-dma-lock exists before install (the host's; left alone): that the packages make it is not tested"
fi
check "no package of ours, no 6.12 RT kernel" sh -c "! dpkg -l | awk '\$1 != \"un\"' | grep -Eq ' (${OURS[*]// /|}|linux-image-6.12-rt-amd64) '"
check "no gpu_dma_lock.ko left in /lib/modules" test -z "$(ko_files)"
mapfile -t kernels < <(tests/vm/kernels.sh --of host)
echo "kernels with headers: ${kernels[*]}"

# ---------------------------------------------------------------------
step "make deb"
if make deb ${prebuild:+PKG_PREBUILD="$prebuild"} >"$logs/deb.log" 2>&1; then
	ok "make deb"
else
	bad "make deb (see $logs/deb.log)"
	tail -n 20 "$logs/deb.log"
fi
debs=()
for p in "${OURS[@]}"; do
	f=$(ls "$build/pkg/${p}_${VERSION}-"*.deb 2>/dev/null | head -n 1)
	if [ -n "$f" ]; then debs+=("$f"); else bad "no $p .deb built"; fi
done
if [ ${#debs[@]} -ne ${#OURS[@]} ]; then
	echo "pkg: no packages, nothing more to test"
	finish
fi
ok "${#debs[@]} .debs: ${debs[*]##*/}"
dkmsdeb=${debs[0]:-/nonexistent}

step "lintian"
# lintian exits 0 with no error, 1 with errors, 2 when it could not check
# (no .changes, say): anything but 0 or 1 means the greps below read
# nothing, so it fails on its own.
changes=$(ls "$build"/pkg/gpu-dma-lock_"$VERSION"-*.changes 2>/dev/null | head -n 1)
lintian -I --tag-display-limit 0 "${changes:-$build/pkg/no-changes-file}" >"$logs/lintian.log" 2>&1
lrc=$?
sed 's/^/  /' "$logs/lintian.log"
check "lintian checked ${changes##*/} (exit status $lrc: 0 or 1)" test -n "$changes" -a "$lrc" -le 1
check "lintian: no error (exit status $lrc)" sh -c "[ $lrc = 0 ] && ! grep -q '^E:' '$logs/lintian.log'"
check "lintian: no warning that is not overridden" sh -c "[ $lrc -le 1 ] && ! grep -q '^W:' '$logs/lintian.log'"

step "deb contents"
dpkg-deb -c "$dkmsdeb" | awk '{print $6}' | sed 's|^\.||' >"$logs/dkms-deb.txt"
for f in /usr/src/gpu-dma-lock-$VERSION/dkms.conf /usr/src/gpu-dma-lock-$VERSION/src/Kbuild \
	/usr/src/gpu-dma-lock-$VERSION/src/uapi/gpu_dma_lock.h \
	/usr/lib/udev/rules.d/60-gpu-dma-lock.rules /usr/lib/modprobe.d/gpu-dma-lock.conf \
	/usr/lib/modules-load.d/gpu-dma-lock.conf /usr/lib/sysusers.d/gpu-dma-lock.conf; do
	check "gpu-dma-lock-dkms ships $f" grep -qx "$f" "$logs/dkms-deb.txt"
done
check "gpu-dma-lock-dkms ships nothing in /etc and no build output" \
	sh -c "! grep -Eq '^/etc/|\\.(o|ko|cmd)\$|mod\\.c\$' '$logs/dkms-deb.txt'"
dpkg-deb --fsys-tarfile "$dkmsdeb" | tar -xO "./usr/src/gpu-dma-lock-$VERSION/dkms.conf" >"$logs/dkms.conf" 2>/dev/null
check "dkms.conf: PACKAGE_VERSION=\"$VERSION\" (from debian/changelog)" grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$logs/dkms.conf"
check "dkms.conf: AUTOINSTALL=yes, BUILD_EXCLUSIVE_KERNEL_MIN, no CLEAN, no placeholder" \
	sh -c "grep -qx 'AUTOINSTALL=\"yes\"' '$logs/dkms.conf' && grep -q '^BUILD_EXCLUSIVE_KERNEL_MIN=' '$logs/dkms.conf' && ! grep -Eq '^CLEAN|#MODULE_VERSION#' '$logs/dkms.conf'"
check "gpu-dma-lock-dkms is Architecture: all, depends on dkms" \
	sh -c "dpkg-deb -f '$dkmsdeb' Architecture | grep -qx all && dpkg-deb -f '$dkmsdeb' Depends | grep -q dkms"
check "gpu-dma-lock-utils ships /usr/sbin/gpu-dma-lock-ctl" \
	sh -c "dpkg-deb -c '${debs[1]:-/nonexistent}' | grep -q '\./usr/sbin/gpu-dma-lock-ctl\$'"
check "libgpudmalock0 ships libgpudmalock.so.0" \
	sh -c "dpkg-deb -c '${debs[2]:-/nonexistent}' | grep -q 'libgpudmalock\.so\.0'"
check "python3-gpudmalock ships the gpudmalock module" \
	sh -c "dpkg-deb -c '${debs[4]:-/nonexistent}' | grep -q '/usr/lib/python3/dist-packages/gpudmalock/__init__\.py\$'"
check "gpu-dma-lock-slurm ships the SPANK plugin where slurmd looks" \
	sh -c "dpkg-deb -c '${debs[6]:-/nonexistent}' | grep -q '/usr/lib/x86_64-linux-gnu/slurm-wlm/gpu_dma_lock\.so\$'"
# Slurm loads no plugin built for another release: the package says which.
SLURM_REL=$(utils/slurm/release.sh)
SLURM_NEXT=$(utils/slurm/release.sh --next)
check "gpu-dma-lock-slurm depends on the Slurm release it was built for ($SLURM_REL, not $SLURM_NEXT)" \
	sh -c "dpkg-deb -f '${debs[6]:-/nonexistent}' Depends | grep -qF 'slurm-wlm-basic-plugins (>= $SLURM_REL~), slurm-wlm-basic-plugins (<< $SLURM_NEXT~)'"
check "librust-gpu-dma-lock-dev ships the crate in Debian's cargo registry" \
	sh -c "dpkg-deb -c '${debs[5]:-/nonexistent}' | grep -q '/usr/share/cargo/registry/gpu-dma-lock-$VERSION/Cargo\.toml\$'"

# The library's real name follows its newest symbol node (libgpudmalock.map);
# dh_makeshlibs' shlibs still names it by its soname (there is no
# debian/libgpudmalock0.symbols, so the .deb has no symbols file).
MAP=utils/lib/libgpudmalock.map
LIBN=$(sed -n 's/^GDLOCK_0\.\([0-9][0-9]*\) {.*/\1/p' $MAP | sort -n | tail -n 1)
libdeb=${debs[2]:-/nonexistent}
dpkg-deb -c "$libdeb" | awk '{print $6}' >"$logs/lib-deb.txt"
check "deb: libgpudmalock0's file is named after GDLOCK_0.$LIBN (tests/pkg/libname.sh)" \
	tests/pkg/libname.sh $MAP "$logs/lib-deb.txt"
check "deb: libgpudmalock.so.0 -> libgpudmalock.so.0.$LIBN.0" \
	sh -c "dpkg-deb -c '$libdeb' | grep -q 'libgpudmalock\.so\.0 -> libgpudmalock\.so\.0\.$LIBN\.0\$'"
rm -rf "$logs/libctl" && dpkg-deb -e "$libdeb" "$logs/libctl"
check "deb: shlibs maps libgpudmalock 0 to libgpudmalock0" \
	grep -Eq '^libgpudmalock 0 libgpudmalock0( |$)' "$logs/libctl/shlibs"
check "deb: gpu-dma-lock-utils depends on libgpudmalock0 (from shlibs)" \
	sh -c "dpkg-deb -f '${debs[1]:-/nonexistent}' Depends | grep -q 'libgpudmalock0 (>= '"

# The boot unit and gc's timer (docs/fleet.md): shipped, enabled by the
# postinst; the timer started, the boot unit not (it loads the module,
# which DKMS may not have built for the running kernel).
utilsdeb=${debs[1]:-/nonexistent}
dpkg-deb -c "$utilsdeb" | awk '{print $6}' | sed 's|^\.||' >"$logs/utils-deb.txt"
for u in gpu-dma-lock.service gpu-dma-lock-gc.service gpu-dma-lock-gc.timer; do
	check "gpu-dma-lock-utils ships /lib/systemd/system/$u" grep -qx "/lib/systemd/system/$u" "$logs/utils-deb.txt"
done
rm -rf "$logs/utilsctl" && dpkg-deb -e "$utilsdeb" "$logs/utilsctl"
check "deb utils postinst enables gpu-dma-lock.service and gpu-dma-lock-gc.timer" \
	sh -c "grep -q \"enable 'gpu-dma-lock.service'\" '$logs/utilsctl/postinst' && grep -q \"enable 'gpu-dma-lock-gc.timer'\" '$logs/utilsctl/postinst'"
check "deb utils postinst starts the timer, not the boot unit" \
	sh -c "grep -q \"deb-systemd-invoke .*'gpu-dma-lock-gc.timer'\" '$logs/utilsctl/postinst' && ! grep -q \"deb-systemd-invoke .*'gpu-dma-lock.service'\" '$logs/utilsctl/postinst'"
check "deb utils prerm stops the timer, postrm purges both" \
	sh -c "grep -q \"deb-systemd-invoke stop .*'gpu-dma-lock-gc.timer'\" '$logs/utilsctl/prerm' && grep -q \"purge 'gpu-dma-lock.service'\" '$logs/utilsctl/postrm' && grep -q \"purge 'gpu-dma-lock-gc.timer'\" '$logs/utilsctl/postrm'"

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
step "new kernel (6.12 RT)"
if apt_q install --no-install-recommends "${NEWK_PKGS[@]}" >"$logs/newk-install.log" 2>&1; then
	ok "apt-get install ${NEWK_PKGS[*]}"
else
	bad "installing ${NEWK_PKGS[*]} (see $logs/newk-install.log)"
	tail -n 30 "$logs/newk-install.log"
fi
newk=$(tests/vm/kernels.sh --of host | grep -E -- "^$NEWK_RE\$" | tail -n 1)
echo "dkms status after installing the kernel ${newk:-?}:"
dkms status -m gpu-dma-lock 2>/dev/null | tee "$logs/dkms-status-2.txt" | sed 's/^/  /'
check "new kernel with headers installed (${newk:-none})" test -n "$newk"
check "DKMS built the module for ${newk:-it} from the kernel's hook" \
	grep -q "^gpu-dma-lock/$VERSION, ${newk:-none}, .*: installed" "$logs/dkms-status-2.txt"
check "the hook's build is in the kernel install's log" grep -q "gpu_dma_lock.ko" "$logs/newk-install.log"
mapfile -t kernels < <(tests/vm/kernels.sh --of host)

# ---------------------------------------------------------------------
boot() {	# boot KVER VERSION
	local k=$1 v=$2 out=$logs/vm-$1-$2.log t0 counts p f s
	t0=$(date +%s)
	# An empty /etc/modprobe.d: the host's own entries are not the test's.
	tests/vm/vm-run.sh -k "$k" -e 2 -t 400 -- \
		"mount -t tmpfs -o mode=0755 tmpfs /etc/modprobe.d && bash tests/pkg/guest.sh $v" >"$out" 2>&1
	local rc=$?
	grep -E '^(FAIL|skip|vm-run:)' "$out" | sed 's/^/  /'
	counts=$(sed -n 's/^pkg-guest: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$out")
	read -r p f s <<<"${counts:-0 1 0}"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	if [ "$rc" -eq 0 ]; then
		ok "$k booted with the DKMS-built $v: $p guest checks ($(($(date +%s) - t0))s)"
	else
		bad "$k in the VM with $v (see $out)"
	fi
}
step "VM boots"
for k in "${kernels[@]}"; do boot "$k" "$VERSION"; done

# ---------------------------------------------------------------------
step "upgrade"
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
upb=$build/pkg-upgrade
if make deb PKG_OUT="$upb" PKG_PREBUILD="${prebuild:+$prebuild; }sh $bump" >"$logs/deb-upgrade.log" 2>&1; then
	ok "make deb of $UPGRADE_VERSION"
else
	bad "make deb of $UPGRADE_VERSION (see $logs/deb-upgrade.log)"
	tail -n 20 "$logs/deb-upgrade.log"
fi
updebs=()
for p in "${OURS[@]}"; do
	f=$(ls "$upb/${p}_${UPGRADE_VERSION}-"*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ] && updebs+=("$f")
done
if [ ${#updebs[@]} -eq ${#OURS[@]} ] && apt_q install "${updebs[@]}" >"$logs/upgrade.log" 2>&1; then
	ok "apt-get install (upgrade) to $UPGRADE_VERSION"
else
	bad "upgrade to $UPGRADE_VERSION (see $logs/upgrade.log)"
	tail -n 30 "$logs/upgrade.log" 2>/dev/null
fi
for p in "${OURS[@]}"; do dpkg -L "$p" 2>/dev/null; done | sort -u >"$logs/dpkg-L-$UPGRADE_VERSION.txt"
echo "dkms status after the upgrade:"
dkms status -m gpu-dma-lock 2>/dev/null | tee "$logs/dkms-status-3.txt" | sed 's/^/  /'
check "only $UPGRADE_VERSION is left in DKMS" test "$(dkms_versions)" = "$UPGRADE_VERSION"
for k in "${kernels[@]}"; do
	check "$UPGRADE_VERSION installed for $k" grep -q "^gpu-dma-lock/$UPGRADE_VERSION, $k, .*: installed" "$logs/dkms-status-3.txt"
done
check "old source /usr/src/gpu-dma-lock-$VERSION removed" test ! -e "/usr/src/gpu-dma-lock-$VERSION"
boot "${kernels[${#kernels[@]} - 1]}" "$UPGRADE_VERSION"

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
cat "$logs"/dpkg-L-*.txt | sort -u | while IFS= read -r f; do
	if [ ! -d "$f" ] && { [ -L "$f" ] || [ -e "$f" ]; }; then echo "$f"; fi
done >"$logs/left-from-dpkg-L.txt"
check "no file from dpkg -L of either version is left" test ! -s "$logs/left-from-dpkg-L.txt"
snapshot >"$logs/files-after.txt"
diff "$logs/files-before.txt" "$logs/files-after.txt" >"$logs/files-diff.txt"
check "file lists before install and after purge are the same" test ! -s "$logs/files-diff.txt"
check "no file named like ours is left" sh -c "! grep -Eq '$NAMES' '$logs/files-after.txt'"
[ -s "$logs/files-diff.txt" ] && sed 's/^/  /' "$logs/files-diff.txt" | head -n 20
echo "note: Debian does not remove system groups: the group gpu-dma-lock goes at the end, if this run made it."

step "purge the 6.12 RT kernel"
purge_newk >"$logs/newk-purge.log" 2>&1
if [ $group_before = 0 ]; then
	getent group gpu-dma-lock >/dev/null && groupdel gpu-dma-lock >>"$logs/newk-purge.log" 2>&1
	rm -f $group_mark
fi
check "the gpu-dma-lock group as before the tier ($([ $group_before = 1 ] && echo there || echo none))" \
	sh -c "[ \"\$(getent group gpu-dma-lock >/dev/null && echo 1 || echo 0)\" = $group_before ]"
check "kernel list back to the baseline" test -z "$(tests/vm/kernels.sh --of host | grep -E -- "^$NEWK_RE\$")"

finish
