#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkroot.sh NAME          build the test root NAME unless it is cached;
#                         print its directory
# mkroot.sh --path NAME   print the cached root's directory; exit 1 when
#                         it is not built (nothing is built)
#
# A test root is a Debian tree made with debootstrap (minbase) from the
# archive this machine's apt uses, plus the packages in NAME.pkgs, whose
# "# suite SUITE COMPONENT" lines say which suites its apt reads.  It is
# cached outside the clone, in $GDL_ROOT_CACHE (default
# /var/cache/gpu-dma-lock/roots), as NAME-KEY, KEY a hash of NAME.pkgs
# and this script: a changed package list builds a new root, and the old
# ones go once it is built.  The roots serve as the build environment for
# their kernels (in-root.sh) and as the guests' root (vm-run.sh).  The
# host's own apt sources are never touched.
#
# GDL_DEBIAN_MIRROR overrides the archive (default: the URI the host's
# apt has for its own release).  Needs root, debootstrap and the network.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${GDL_ROOT_CACHE:-/var/cache/gpu-dma-lock/roots}

die() { echo "mkroot: $*" >&2; exit 1; }

only_path=0
if [ "${1:-}" = --path ]; then
	only_path=1
	shift
fi
[ $# -eq 1 ] || die "usage: $0 [--path] NAME"
name=$1
list=$here/$name.pkgs
[ -r "$list" ] || die "no package list $list"

key=$(cat "$list" "$0" | sha256sum | cut -c1-12)
dir=$cache/$name-$key
if [ -e "$dir/.gdl-root" ]; then
	echo "$dir"
	exit 0
fi
[ $only_path = 0 ] || exit 1

[ "$(id -u)" -eq 0 ] || die "building root $name needs root (make deps as root)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (make deps)"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
# Another run may have built it while this one waited.
if [ -e "$dir/.gdl-root" ]; then
	echo "$dir"
	exit 0
fi

suites=$(sed -n 's/^# suite \([^ ]*\) \(.*\)$/\1|\2/p' "$list")
[ -n "$suites" ] || die "$list names no suite (# suite SUITE COMPONENT)"
first=${suites%%|*}
pkgs=$(sed 's/#.*//' "$list" | tr -s ' \t\n' ' ')
mirror=${GDL_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	host_release=$(. /etc/os-release && echo "$VERSION_CODENAME")
	mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
		awk -v r="$host_release" '$2 == r { print $1; exit }')
	[ -n "$mirror" ] || die "cannot tell the host's archive (set GDL_DEBIAN_MIRROR)"
fi

tmp=$cache/.build-$name-$key
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)
echo "mkroot: $name: debootstrap $first from $mirror into $tmp" >&2
debootstrap --variant=minbase "$first" "$tmp" "$mirror" >"$cache/$name.debootstrap.log" 2>&1 ||
	{ tail -n 20 "$cache/$name.debootstrap.log" >&2; die "debootstrap failed (log: $cache/$name.debootstrap.log)"; }

rm -f "$tmp/etc/apt/sources.list"
printf '%s\n' "$suites" | while IFS='|' read -r s comps; do
	printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
		"$mirror" "$s" "$comps"
done >"$tmp/etc/apt/sources.list.d/debian.sources"
cp /etc/resolv.conf "$tmp/etc/resolv.conf"
# Kernel and initramfs hooks need no device or init system here.
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"

echo "mkroot: $name: apt-get install $pkgs" >&2
# dpkg's unsafe I/O: no fsync per unpacked file.  A root that is cut
# short is thrown away whole (the EXIT trap), never used half written.
# shellcheck disable=SC2086	# the package list splits on purpose
"$here/in-root.sh" "$tmp" env DEBIAN_FRONTEND=noninteractive sh -c \
	'apt-get update -q && apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-unsafe-io "$@" && apt-get clean' \
	apt $pkgs >"$cache/$name.apt.log" 2>&1 ||
	{ tail -n 30 "$cache/$name.apt.log" >&2; die "apt-get in the root failed (log: $cache/$name.apt.log)"; }

# "# fetch PACKAGE SUITE PATH": one file from another suite, through an
# apt list of its own, so that the root's apt never mixes suites.
fetches=$(sed -n 's/^# fetch \([^ ]*\) \([^ ]*\) \([^ ]*\)$/\1 \2 \3/p' "$list")
if [ -n "$fetches" ]; then
	echo "mkroot: $name: fetching from other suites: $(echo "$fetches" | tr '\n' ';')" >&2
	printf '%s\n' "$fetches" | while read -r pkg suite path; do
		echo "deb $mirror $suite main" >"$tmp/etc/apt/gdl-fetch.list"
		# shellcheck disable=SC2016	# the inner shell expands them
		"$here/in-root.sh" "$tmp" sh -c '
			set -e
			o="-o Dir::Etc::sourcelist=/etc/apt/gdl-fetch.list -o Dir::Etc::sourceparts=-
			   -o Dir::State::Lists=/var/lib/apt/gdl-fetch-lists -o APT::Sandbox::User=root
			   -o Acquire::Check-Valid-Until=false"
			# (a frozen archive snapshot keeps the Release file of sid past its Valid-Until)
			mkdir -p /var/lib/apt/gdl-fetch-lists/partial /tmp/gdl-fetch
			apt-get $o update -q
			cd /tmp/gdl-fetch
			apt-get $o download "$1/$2"
			dpkg-deb -x ./*.deb x
			install -m 755 "x/$3" "/usr/local/bin/${3##*/}"
			"/usr/local/bin/${3##*/}" --version
			cd / && rm -rf /tmp/gdl-fetch /var/lib/apt/gdl-fetch-lists /etc/apt/gdl-fetch.list
		' fetch "$pkg" "$suite" "$path" >>"$cache/$name.apt.log" 2>&1 ||
			{ tail -n 20 "$cache/$name.apt.log" >&2; die "fetching $path of $pkg from $suite failed"; }
	done
fi

# Debian's linux-headers packages for 7.3 lack scripts/checker-valid.sh,
# which their Makefile runs before honouring C=1/C=2: without it sparse
# is silently turned off.  Supply one that does what the kernel's says:
# print 1 when the checker parses a probe using what the kernel's headers
# need (__typeof_unqual__) without a word on stderr.
for mk in "$tmp"/usr/src/linux-headers-*/Makefile; do
	[ -e "$mk" ] || continue
	hd=${mk%/Makefile}
	grep -q 'scripts/checker-valid.sh' "$mk" && [ ! -e "$hd/scripts/checker-valid.sh" ] || continue
	cat >"$hd/scripts/checker-valid.sh" <<'CHECKER_END'
#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Added by gpu-dma-lock's tests/roots/mkroot.sh: Debian's headers package
# lacks the kernel's own script.  checker-valid.sh CHECKER [FLAGS...]
# prints 1 when CHECKER parses __typeof_unqual__ with no complaint.
probe='int gdl_probe(const int *p); int gdl_probe(const int *p) { __typeof_unqual__(*p) v = *p; return v; }'
err=$(printf '%s
' "$probe" | "$@" -D__CHECKER__ - 2>&1 >/dev/null) || { echo 0; exit; }
[ -z "$err" ] && echo 1 || echo 0
CHECKER_END
	chmod 755 "$hd/scripts/checker-valid.sh"
	echo "mkroot: $name: added ${hd#"$tmp"}/scripts/checker-valid.sh (missing from Debian's headers)" >&2
done
rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/*.bin

printf 'name=%s\nkey=%s\nmirror=%s\nbuilt=%s\nseconds=%s\n' "$name" "$key" "$mirror" \
	"$(date -u +%FT%TZ)" "$(($(date +%s) - t0))" >"$tmp/.gdl-root"
mv "$tmp" "$dir"
trap - EXIT
# Only NAME-KEY: another root whose name starts with NAME- is not ours.
for old in "$cache/$name"-*; do
	case ${old#"$cache/$name"-} in
	[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
	*) continue ;;
	esac
	[ "$old" = "$dir" ] || [ ! -e "$old/.gdl-root" ] || rm -rf "$old"
done
echo "mkroot: $name: built in $(($(date +%s) - t0))s: $dir" >&2
echo "$dir"
