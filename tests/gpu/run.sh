#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/gpu/run.sh [QUOTA_MIB]   (default 2048) - on a machine with an
# NVIDIA GPU, CUDA 12 or 13 (cuda.h, libcuda.so.1) and optionally PyTorch.
# NOT part of `make check`.  See docs/cuda.md, "Testing on a GPU".
#
# With /dev/gpu_dma_lock (module loaded, run as root): creates agent
# "gpu-test" with QUOTA_MIB on every device, binds this shell's pid and
# runs both programs under the interposer in enforcing mode (the GPU must
# be one the module discovered: pci_ids defaults to NVIDIA and AMD).
# PyTorch runs plain, with expandable segments (VMM), with the
# cudaMallocAsync backend (pools) and a CUDA graph, and prints the charged
# footprint next to the driver's per-process figure.
# Without the module (e.g. a machine that cannot load kernel modules):
# writes "fail = open" to /etc/gpu-dma-lock/cuda.conf (root; the
# environment can no longer loosen the fail mode) and runs them passed
# through (checks that nothing breaks and measures the overhead), then
# once fail-closed to check that allocations are refused with
# CUDA_ERROR_OUT_OF_MEMORY.  An existing cuda.conf is put back after.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
quota=${1:-2048}
cuda=${CUDA_HOME:-/usr/local/cuda}
cd "$root" || exit 1

make -s -C utils/cuda BUILD="$build" || exit 1
make -s utils BUILD="$build" || exit 1
cc -O2 -Wall -I"$cuda/include" tests/gpu/cuda_quota.c -o "$build/cuda/cuda_quota" \
	-L"$cuda/lib64/stubs" -lcuda || exit 1
# Issue 23's escapes (the interposer's own declarations over cuda.h's
# internal view, as coverage.sh compiles them).
cc -O2 -Wall -DGDL_CUDA_REAL_HEADERS -D_GNU_SOURCE -I"$cuda/include" -Iutils/cuda \
	-Iutils/include -Isrc/uapi tests/gpu/cuda_escapes.c "$build/utils/libgpudmalock.a" \
	-o "$build/cuda/cuda_escapes" -L"$cuda/lib64/stubs" -lcuda -ldl || exit 1
lib=$build/cuda/libgpudmalock-cuda.so
rc=0

run() {	# run NAME ENV... -- COMMAND...
	echo "== $1"
	shift
	env "$@" || rc=1
}

have_torch=0
python3 -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' 2>/dev/null && have_torch=1

# Item 13: does the driver's cuGetProcAddress hand out the exported
# versions (the identity the interposer matches on)?  No interposer.
run "cuGetProcAddress identity, per wrapped name" "$build/cuda/cuda_escapes" identity

if [ -c /dev/gpu_dma_lock ]; then
	echo "module loaded: enforcing, quota ${quota} MiB per device"
	cc -O2 -Wall -D_GNU_SOURCE -Iutils/include -Isrc/uapi tests/gpu/gdl_run_as_agent.c \
		"$build/utils/libgpudmalock.a" -o "$build/cuda/gdl_run_as_agent" || exit 1
	as=("$build/cuda/gdl_run_as_agent" "$quota")
	run "C, enforcing" LD_PRELOAD="$lib" "${as[@]}" "$build/cuda/cuda_quota" "$quota"
	run "issue 23's escapes, enforcing" LD_PRELOAD="$lib" "${as[@]}" "$build/cuda/cuda_escapes" charges
	if [ $have_torch = 1 ]; then
		run "PyTorch, enforcing" LD_PRELOAD="$lib" "${as[@]}" python3 tests/gpu/torch_quota.py "$quota"
		run "PyTorch, enforcing, expandable segments" LD_PRELOAD="$lib" \
			PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True \
			"${as[@]}" python3 tests/gpu/torch_quota.py "$quota"
		run "PyTorch, enforcing, cudaMallocAsync" LD_PRELOAD="$lib" \
			PYTORCH_CUDA_ALLOC_CONF=backend:cudaMallocAsync \
			"${as[@]}" python3 tests/gpu/torch_quota.py "$quota"
	fi
	exit $rc
fi

echo "no /dev/gpu_dma_lock: fail-open and fail-closed modes only"
conf=/etc/gpu-dma-lock/cuda.conf
if [ "$(id -u)" != 0 ]; then
	echo "not root: cannot write $conf for the fail-open runs"
	exit 1
fi
saved=
if [ -e $conf ]; then saved=$(mktemp) && cp -p $conf "$saved"; fi
# shellcheck disable=SC2317 # called by the trap
restore() { if [ -n "$saved" ]; then mv "$saved" "$conf"; else rm -f "$conf"; fi; }
trap restore EXIT
mkdir -p /etc/gpu-dma-lock
echo "fail = open" >$conf
chmod 644 $conf
run "C, fail-open" LD_PRELOAD="$lib" "$build/cuda/cuda_quota" 0
run "C, no interposer (baseline)" "$build/cuda/cuda_quota" 0
# Refused by the interposer, not failing for another reason: it is there
# and preloaded (ld.so says nothing), and the first allocation gets
# CUDA_ERROR_OUT_OF_MEMORY (no interposer or no libcuda exits 127 or
# fails otherwise, and must not pass).
out=$(GDL_CUDA_FAIL=closed GDL_CUDA_LOG=0 LD_PRELOAD="$lib" "$build/cuda/cuda_quota" 0 2>&1)
if [ -f "$lib" ] && ! echo "$out" | grep -q 'cannot be preloaded' &&
   echo "$out" | grep -q '^cuMemAlloc/cuMemFree pair 0: CUDA_ERROR_OUT_OF_MEMORY$'; then
	echo "ok   fail-closed: allocations refused with CUDA_ERROR_OUT_OF_MEMORY by the interposer"
else
	echo "FAIL fail-closed: the first allocation was not refused with CUDA_ERROR_OUT_OF_MEMORY by a loaded interposer:"
	echo "$out" | tail -n 5 | sed 's/^/  /'
	rc=1
fi
if [ $have_torch = 1 ]; then
	run "PyTorch, fail-open" LD_PRELOAD="$lib" python3 tests/gpu/torch_quota.py 0
	run "PyTorch, fail-open, expandable segments" LD_PRELOAD="$lib" \
		PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True python3 tests/gpu/torch_quota.py 0
	run "PyTorch, fail-open, cudaMallocAsync" LD_PRELOAD="$lib" \
		PYTORCH_CUDA_ALLOC_CONF=backend:cudaMallocAsync python3 tests/gpu/torch_quota.py 0
else
	echo "PyTorch with CUDA not found: skipped"
fi
exit $rc
