#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bindings/run.sh [KVER...]: the bindings tier of make check.
#   1. builds the module for every kernel and the library;
#   2. host tests: cargo test of utils/rust (offline, Debian's crates only)
#      and pytest of utils/python;
#   3. boots every kernel (default: all from tests/vm/kernels.sh) in QEMU
#      with two edu devices and runs vm-bindings.sh inside: the Rust test
#      binary built here, the Python scenario and both examples.
# Ends with "bindings: N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}
cd "$root" || exit 1
# Debian's toolchain, whatever else PATH holds (deps.sh installs them).
cargo=${CARGO:-/usr/bin/cargo}
export RUSTC=${RUSTC:-/usr/bin/rustc} RUSTDOC=${RUSTDOC:-/usr/bin/rustdoc}
python=${PYTHON:-/usr/bin/python3}

# shellcheck source=tests/common/tally.sh
. tests/common/tally.sh
tally_kernels bindings "$@"

mkdir -p "$build/vm"
blog=$build/bindings-build.log
if ! make -s modules-all >"$blog" 2>&1 || ! make -s utils >>"$blog" 2>&1; then
	tail -n 30 "$blog"
	echo "bindings: 0 passed, 1 failed, 0 skipped"
	exit 1
fi
export GPUDMALOCK_LIB_DIR=$build/utils LD_LIBRARY_PATH=$build/utils
export CARGO_TARGET_DIR=$build/rust PYTHONDONTWRITEBYTECODE=1

# Rust host tests: every "test result:" line of cargo test, added up.
log=$build/bindings-rust.log
(cd utils/rust && "$cargo" test --offline --no-fail-fast) >"$log" 2>&1
rc=$?
grep -E '^test .* FAILED$|^error' "$log" || true
read -r p f < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$log" |
	awk '{p += $1; f += $2} END {print p + 0, f + 0}')
echo "rust-host: $p passed, $f failed" >>"$log"
tally rust-host "$log" $rc
tally_row "rust: cargo test"

# Python host tests.
log=$build/bindings-python.log
"$python" -m pytest -q -p no:cacheprovider utils/python/tests >"$log" 2>&1
rc=$?
grep -E '^FAILED|^ERROR' "$log" || true
last=$(tail -n 1 "$log")
p=$(echo "$last" | grep -oE '[0-9]+ passed' | awk '{n += $1} END {print n + 0}')
f=$(echo "$last" | grep -oE '[0-9]+ (failed|errors?)' | awk '{n += $1} END {print n + 0}')
echo "python-host: $p passed, $f failed" >>"$log"
tally python-host "$log" $rc
tally_row "python: pytest"

# The Rust binaries the guest runs: the device scenario and the example.
log=$build/bindings-rust-vm-build.log
dev_test=$( (cd utils/rust && "$cargo" test --offline --no-run --test device --message-format=json) 2>"$log" |
	"$python" -c 'import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "device" and m.get("executable"):
        print(m["executable"])')
(cd utils/rust && "$cargo" build --offline --example orchestrator) >>"$log" 2>&1
example=$build/rust/debug/examples/orchestrator
if [ -z "$dev_test" ] || [ ! -x "$example" ]; then
	tail -n 30 "$log"
	echo "bindings: $total_pass passed, $((total_fail + 1)) failed, $total_skip skipped"
	exit 1
fi

tally_userspace_kernels $#
last_n=0
for k in "${run_kernels[@]}"; do
	ko=$build/kmod/$k/gpu_dma_lock.ko
	tally_guest bindings-vm "$k" "$build/vm/bindings-$k.log" '^(FAIL|     \|)|vm-run:' "" \
		-e 2 -t 300 -- "sh tests/bindings/vm-bindings.sh $ko $build $dev_test $example"
done
tally_left_out "$last_n"

tally_end bindings "Rust and Python bindings (logs: $build/bindings-*.log, $build/vm/bindings-*.log):"
