#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel-side standards, for every installed kernel with headers:
#  - the module builds with W=1 and no warning, and so does its test
#    build (GDL_TEST_HOOKS=y),
#  - sparse (C=2) reports nothing, and does run (a planted finding),
#  - checkpatch.pl --strict --no-tree (from Debian's linux-source-6.1
#    tarball) is clean on every tracked file under src/,
#  - every tracked source file carries an SPDX line,
#  - every tracked shell script passes shellcheck -S warning.
# Ends with "lint: N passed, M failed, 0 skipped".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
pass=0
fail=0
res() { if [ "$1" -eq 0 ]; then pass=$((pass + 1)); echo "ok   lint: $2"; else fail=$((fail + 1)); echo "FAIL lint: $2"; fi; }

# checkpatch and its data files, extracted once from the tarball.
ks=$build/ksrc
if [ ! -f "$ks/.stamp" ]; then
	mkdir -p "$ks"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$ks" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch \
		linux-source-6.1/tools/lib/rbtree.c linux-source-6.1/tools/include &&
		touch "$ks/.stamp"
fi

# probe_sparse KVER: a clean result means something only if sparse ran: a
# probe module with a __user pointer dereferenced must draw its complaint.
probe_sparse() {
	local k=$1 p out
	p=$build/lint/probe-$k
	rm -rf "$p"
	mkdir -p "$p"
	echo 'obj-m := sparse_probe.o' >"$p/Kbuild"
	cat >"$p/sparse_probe.c" <<'PROBE_END'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
int sparse_probe(int __user *p);
int sparse_probe(int __user *p) { return *p; }
MODULE_LICENSE("GPL");
PROBE_END
	out=$(tests/vm/kbuild.sh "$k" M="$p" C=2 modules 2>&1)
	echo "$out" | grep -q 'dereference of noderef expression'
	res $? "$k: sparse runs (a planted __user dereference is reported)"
}

[ -n "$(tests/vm/kernels.sh)" ] || res 1 "a kernel with headers to build against (make deps)"
for k in $(tests/vm/kernels.sh); do
	d=$build/lint/$k
	rm -rf "$d"
	mkdir -p "$d/uapi"
	cp src/*.c src/*.h src/Kbuild "$d/"
	cp src/uapi/*.h "$d/uapi/"
	out=$(tests/vm/kbuild.sh "$k" M="$d" W=1 C=2 GDL_VERSION=lint modules 2>&1)
	rc=$?
	# Kbuild turns C=2 off, with a line that is no "warning:", when the
	# kernel finds sparse too old for its headers (7.3 with sparse 0.6.4).
	findings=$(echo "$out" | grep -E 'warning:|error:|sparse:|not available or not up to date' || true)
	[ -n "$findings" ] && echo "$findings"
	res $(( rc != 0 || ${#findings} != 0 )) "$k: W=1 build and sparse clean"
	# The test build's hooks (GDL_TEST_HOOKS=y, src/Kbuild; tests/vm/sriov.sh)
	# are compiled only there, so they are checked there too: W=1 and
	# sparse on the newest kernel (a whole second build: 20 s a kernel);
	# the vm tier's sriov.sh builds them W=1 on every kernel.
	[ "$k" = "$(tests/vm/kernels.sh | tail -n 1)" ] || { probe_sparse "$k"; continue; }
	out=$(tests/vm/kbuild.sh "$k" M="$d" W=1 C=2 GDL_VERSION=lint GDL_TEST_HOOKS=y modules 2>&1)
	rc=$?
	findings=$(echo "$out" | grep -E 'warning:|error:|sparse:|not available or not up to date' || true)
	[ -n "$findings" ] && echo "$findings"
	res $(( rc != 0 || ${#findings} != 0 )) "$k: W=1 build and sparse clean with the test hooks (GDL_TEST_HOOKS=y)"
	probe_sparse "$k"
done

files=$(git ls-files src)
cp_out=$(perl "$ks/scripts/checkpatch.pl" --no-tree --strict --terse -f $files 2>&1 |
	grep -v '^total: 0 errors, 0 warnings, 0 checks')
[ -n "$cp_out" ] && echo "$cp_out"
res ${#cp_out} "checkpatch --strict on $(echo "$files" | wc -l) files under src/"

nospdx=$(for f in $(git ls-files | grep -E '\.(c|h|sh|py)$|Makefile|Kbuild|^\.ci/run$'); do
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier' || echo "$f"; done)
[ -n "$nospdx" ] && echo "no SPDX line: $nospdx"
res ${#nospdx} "SPDX line on every source file"

# A runner that logs into the build directory must make it first: a fresh
# clone has none, and `make demo` or a lone tier would fail there at once.
nomkdir=$(for f in tests/*/run.sh tests/demo/demo.sh tests/check.sh; do
	awk -v f="$f" '/mkdir -p "?\$build"?([ \t]|$)/ { made = 1 }
		/>>?"?\$build\// && !made { print f ":" FNR; exit }' "$f"; done)
[ -n "$nomkdir" ] && echo "writes into \$build before making it: $nomkdir"
res ${#nomkdir} "every runner makes its build directory before logging there"

# Every tracked shell script passes shellcheck at warning level (the
# repository's .shellcheckrc lets it follow what the runners source); a
# planted unused variable shows that it does run.
mkdir -p "$build/lint"
printf '#!/bin/sh\nunused=1\n' >"$build/lint/shellcheck-probe.sh"
! shellcheck -S warning "$build/lint/shellcheck-probe.sh" >/dev/null 2>&1
res $? "shellcheck runs (a planted unused variable is reported)"
sc_out=$(git ls-files '*.sh' .ci/run | xargs -n 1 shellcheck -S warning -f gcc 2>&1)
[ -n "$sc_out" ] && echo "$sc_out"
res ${#sc_out} "shellcheck -S warning on $(git ls-files '*.sh' .ci/run | wc -l) shell scripts"

echo "lint: $pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
