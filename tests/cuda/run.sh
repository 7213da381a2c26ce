#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/cuda/run.sh [--bench] [KVER...]
# tests/cuda/run.sh --host [CASE]   cudatest's host cases only, no VM
# Build the CUDA interposer and its test doubles, run the pointer-map unit
# test on the host (ASan/UBSan), cudatest's host cases under the ledger's
# stand-in (tests/cuda/ledger_stub.c; again built with ASan/UBSan), the
# check that the interposer's files form no circle (deps.sh), then
# tests/cuda/suite.sh in the VM on
# every kernel (default: all from tests/vm/kernels.sh) with the module
# loaded.  Ends with "cuda: N passed, M failed" (N, M counting checks).
# --bench prints the benchmark tables: the interposer's own cost natively
# on the host (host_bench: time and callgrind instruction counts), then
# the same pair against the real module in the VM (newest kernel), timed
# by the wall clock, then counted in guest instructions (vm-run.sh -i).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1

# host_cudatest BUILD [CASE]: cudatest's host mode, the fake driver's two
# devices, the stand-in preloaded ahead of the interposer.
# An ASan build (BUILD/asan) needs the runtime preloaded first.
host_cudatest() {
	local asan=
	case $1 in */asan) asan="$(${CC:-gcc} -print-file-name=libasan.so) " ;; esac
	env FAKE_CUDA_PCI=0000:00:04.0,0000:00:05.0 LD_LIBRARY_PATH="$1/cuda/fake" \
		LD_PRELOAD="$asan$1/cuda/test/libledger-stub.so $1/cuda/libgpudmalock-cuda.so" \
		ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		GDL_CUDA_CTX_RESERVE=2M GDL_CUDA_FAIL=closed "$1/cuda/cudatest" host ${2:+"$2"}
}

# --host: the host parts only (build, host cudatest), for quick work.
if [ "${1:-}" = --host ]; then
	make -s -C tests/cuda BUILD="$build" || exit 1
	host_cudatest "$build" "${2:-}"
	exit $?
fi

bench=0
if [ "${1:-}" = --bench ]; then
	bench=1
	shift
fi
# shellcheck source=tests/common/tally.sh
. tests/common/tally.sh
tally_kernels cuda "$@"
[ ${#kernels[@]} -gt 0 ] || { tally_end cuda "CUDA interposer tests:"; exit 1; }

mkdir -p "$build"
make -s -C tests/cuda BUILD="$build" || { echo "cuda: 0 passed, 1 failed, 0 skipped"; exit 1; }
# The module for every kernel, into the directory the guests load it from
# (make is incremental: an edit of src/ is built, nothing else).
make -s modules-all BUILD="$build" >"$build/cuda-modules.log" 2>&1 ||
	{ tail -n 30 "$build/cuda-modules.log"; echo "cuda: 0 passed, 1 failed, 0 skipped"; exit 1; }
mkdir -p "$build/vm"

# Instructions per pair in each host_bench mode, counted by callgrind.
host_instr() {
	local m pre ir n=20000
	declare -A per
	for m in plain ledger interposed; do
		pre=
		[ $m = interposed ] && pre=$build/cuda/libgpudmalock-cuda.so
		ir=$(LD_PRELOAD=$pre valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			--toggle-collect=measured_pairs "$build/cuda/host_bench" --only $m $n 2>&1 |
			sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
		[ -n "$ir" ] || return 1
		per[$m]=$((ir / n))
	done
	echo "interposer on the host, instructions per pair (callgrind, $n pairs):"
	printf '  %-52s %10s\n' "fake driver alone" "${per[plain]}" \
		"RESERVE + RELEASE through libgpudmalock (stand-in)" "${per[ledger]}" \
		"through libgpudmalock-cuda.so" "${per[interposed]}" \
		"interposer's own instructions per pair" \
		"$((per[interposed] - per[plain] - per[ledger]))"
}

if [ $bench = 1 ]; then
	"$build/cuda/host_bench" "$build/cuda/libgpudmalock-cuda.so" || exit 1
	echo
	if command -v valgrind >/dev/null; then
		host_instr || { echo "cuda: callgrind run failed" >&2; exit 1; }
		echo
	fi
	k=${kernels[${#kernels[@]} - 1]}
	tests/vm/vm-run.sh -k "$k" -e 2 -t 300 -- \
		"sh tests/cuda/suite.sh $build/kmod/$k/gpu_dma_lock.ko $build bench"
	rc=$?
	echo
	tests/vm/vm-run.sh -i -k "$k" -e 2 -c 1 -t 600 -- \
		"GDL_BENCH_ICOUNT=1 sh tests/cuda/suite.sh $build/kmod/$k/gpu_dma_lock.ko $build bench" ||
		rc=1
	exit $rc
fi

log=$build/cuda/map_test.log
"$build/cuda/map_test" >"$log" 2>&1
rc=$?
cat "$log"
tally map "$log" $rc
tally_row "host map_test (ASan)"

# The interposer's cases that need no kernel, on the host under the
# ledger's stand-in (ledger_stub.c, test code): seconds, no VM.
log=$build/cuda/cudatest-host.log
host_cudatest "$build" >"$log" 2>&1
rc=$?
grep -E '^FAIL' "$log" || true
tally cudatest "$log" $rc
tally_row "host cudatest (ledger stub)"
# The same under ASan/UBSan (the interposer, the stand-in, cudatest).
log=$build/cuda/cudatest-host-asan.log
if make -s -C tests/cuda BUILD="$build" asan >"$log" 2>&1; then
	host_cudatest "$build/asan" >>"$log" 2>&1
	rc=$?
else
	rc=1
fi
grep -E '^FAIL|ERROR: AddressSanitizer|runtime error' "$log" || true
tally cudatest "$log" $rc
tally_row "host cudatest (ASan/UBSan)"

# The host benchmark, tiny, so that it cannot rot: it asserts that every
# pair through the interposer reached the ledger stand-in once each way.
log=$build/cuda/host_bench.log
"$build/cuda/host_bench" --smoke "$build/cuda/libgpudmalock-cuda.so" >"$log" 2>&1
rc=$?
cat "$log"
tally host_bench "$log" $rc
tally_row "host_bench --smoke"

# The interposer's files call each other without a circle (deps.sh),
# read from the objects just built.
log=$build/cuda/deps.log
tests/cuda/deps.sh "$build/cuda/obj" >"$log" 2>&1
rc=$?
cat "$log"
tally deps "$log" $rc
tally_row "utils/cuda files, no circle"

# The coverage table and declarations against CUDA's headers, where
# they are installed (it counts nothing without them).
log=$build/cuda/coverage.log
tests/cuda/coverage.sh >"$log" 2>&1
rc=$?
cat "$log"
tally coverage "$log" $rc
if grep -q 'no cuda.h' "$log"; then
	tally_skip "coverage vs cuda.h" 1 "no cuda.h"
else
	tally_row "coverage vs cuda.h"
fi

tally_userspace_kernels $#
last_n=0
for k in "${run_kernels[@]}"; do
	tally_guest cuda-suite "$k" "$build/vm/cuda-$k.log" '^(FAIL|vm-run:)' "" \
		-e 2 -t 300 -- "sh tests/cuda/suite.sh $build/kmod/$k/gpu_dma_lock.ko $build"
done
tally_left_out "$last_n"

tally_end cuda "CUDA interposer tests (VM logs in $build/vm/cuda-*.log):"
