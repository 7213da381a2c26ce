#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: tests/bench/run.sh [--smoke] [KVER...]
#  1. the core natively on the host: ns/op at every scale, and
#     instructions/op counted by callgrind (stable on a noisy machine);
#     the hostile 100,000-entry set's denied DMA check and the longest
#     admin_lock holds a tenant can cause, before (the pre-1.2 algorithms,
#     tests/bench/pre12_acl.c) and after, in the same run, with ratios;
#  2. in the VM, per kernel (default: every one from kernels.sh), the
#     module's ioctl fast path against the null ioctl, the /proc way,
#     scaling with agents and ACL entries, 1 vs 2 vCPUs, memory per object;
#  3. the same, per kernel, in a guest booted with -icount (vm-run.sh -i):
#     its clock counts guest instructions, so these tables repeat exactly
#     on a loaded host; then both runs' figures side by side (beside.awk).
#     GDL_BENCH_CLOCK=wall or icount runs only one of the two (default:
#     both).  --smoke runs the icount guest on the first kernel only.
# --smoke runs everything tiny (for make check: it must not rot; nothing
# is asserted on time).  GDL_BENCH_VM_ONLY=1 skips the native part.  Ends
# with "bench: N passed, M failed" counting runs.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${GDL_BUILD_DIR:-$root/build}	# the module; tests/bench/Makefile builds into build/bench
cd "$root" || exit 2
smoke=
[ "${1:-}" = --smoke ] && { smoke=--smoke; shift; }
pass=0
fail=0
skip=0
res() { if [ "$1" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL bench: $2"; fi; }

make -s modules-all >/dev/null && make -s utils >/dev/null && make -s -C tests/bench all >/dev/null
res $? "build"

if [ -z "${GDL_BENCH_VM_ONLY:-}" ]; then
echo "== native core ($(uname -m), $(nproc) CPUs)"
build/bench/native $smoke
res $? "native"
else
	skip=$((skip + 1))	# GDL_BENCH_VM_ONLY
fi
if [ -z "$smoke" ] && [ -z "${GDL_BENCH_VM_ONLY:-}" ] && command -v valgrind >/dev/null; then
	echo
	echo "Native core, instructions per operation (callgrind; agents, ACL entries):"
	printf '  %-16s %-8s %-8s %12s\n' op agents acl instr/op
	for spec in "check-own 1 1" "check-acl 1 1" "check-acl 1 1000" \
		    "check-acl 1 100000" "check-acl 10000 100000" \
		    "reserve-release 1 1" "reserve-release 10000 1"; do
		read -r op agents acl <<<"$spec"
		n=20000
		out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			--toggle-collect="loop_${op//-/_}" \
			build/bench/native --only "$op" $n "$agents" "$acl" 2>&1)
		ir=$(echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
		printf '  %-16s %-8s %-8s %12s\n' "$op" "$agents" "$acl" \
			"$([ -n "$ir" ] && echo $((ir / n)) || echo '?')"
	done
	# The hostile set's denied check, before (the pre-1.2 walk-back,
	# tests/bench/pre12_acl.c) and after; fewer runs of the O(n) one.
	echo
	echo "Denied DMA check against the 100,000-entry hostile set, instructions per check (callgrind):"
	printf '  %-40s %12s\n' code instr/check
	for spec in "check-hostile-pre12 20 before: pre-1.2 walk-back (ca0a1f2)" \
		    "check-hostile 20000 after: this core"; do
		read -r op n label <<<"$spec"
		ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			--toggle-collect="loop_${op//-/_}" \
			build/bench/native --only "$op" "$n" 1 100000 2>&1 |
			sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
		printf '  %-40s %12s\n' "$label" "$([ -n "$ir" ] && echo $((ir / n)) || echo '?')"
	done
fi

kernels=("$@")
if [ ${#kernels[@]} -eq 0 ]; then
	mapfile -t kernels < <(tests/vm/kernels.sh)
	skip=$((skip + $(tests/vm/kernels.sh --dropped | wc -l)))
fi
[ ${#kernels[@]} -gt 0 ] || res 1 "no kernel with headers installed"
clock=${GDL_BENCH_CLOCK:-both}
case $clock in wall | icount | both) ;; *) res 1 "GDL_BENCH_CLOCK=$clock (wall, icount or both)" ;; esac
mkdir -p "$build/bench"
first=1
for k in "${kernels[@]}"; do
	load="insmod $build/kmod/$k/gpu_dma_lock.ko pci_ids=1234:11e8 max_agents=10010"
	wall=$build/bench/vm-$k.wall.txt
	inst=$build/bench/vm-$k.icount.txt
	rm -f "$wall" "$inst"
	if [ "$clock" != icount ]; then
		echo
		echo "== kernel $k (QEMU TCG, 2 vCPUs, wall clock)"
		tests/vm/vm-run.sh -k "$k" -e 1 -c 2 -t 1200 -- \
			"$load && build/bench/bench $smoke && rmmod gpu_dma_lock" | tee "$wall"
		res "${PIPESTATUS[0]}" "kernel $k"
	fi
	# One vCPU: under icount the vCPUs take turns on one host thread, and
	# a second one's instructions would count in the first one's clock.
	if [ "$clock" != wall ] && { [ -z "$smoke" ] || [ $first = 1 ]; }; then
		echo
		echo "== kernel $k (QEMU TCG -icount shift=0, 1 vCPU: guest instructions, not time)"
		tests/vm/vm-run.sh -i -k "$k" -e 1 -c 1 -t 2400 -- \
			"$load && build/bench/bench $smoke --icount && rmmod gpu_dma_lock" | tee "$inst"
		res "${PIPESTATUS[0]}" "kernel $k, icount"
	fi
	if [ -s "$wall" ] && [ -s "$inst" ]; then
		echo
		echo "== kernel $k side by side: wall clock (2 vCPUs) and guest instructions (-icount, 1 vCPU)"
		awk -f tests/bench/beside.awk "$wall" "$inst"
	fi
	first=0
done
echo "bench: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
