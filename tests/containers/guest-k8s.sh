# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2154	# guest.sh's and guest-engines.sh's variables
#
# Sourced by guest.sh on a Debian 13 root, with guest-engines.sh: part 15,
# Kubernetes (docs/kubernetes.md).  The device plugin
# (gpu-dma-lock-device-plugin, utils/k8s) registers with gdl-cri's kubelet
# stand-in (cri/kubelet.go), which does what the kubelet's device manager
# and the scheduler's count do and creates the pods through the same
# containerd 1.7 CRI as part 14.  Device 0 has 8 units of 1M (its ledger
# capacity, 8M); device 1 has no capacity and is not advertised.
# Cases: pods of 3 and 4 units held to what they were granted (the second
# also annotated with a larger quota, ignored); a third of 2 units refused
# by the count; a pod naming another's allocation in a cdi.k8s.io
# annotation refused, with or without one of its own; the pods' labels in
# agent list, stats and watch; the allocations collected by gc after the pods
# go; device 0 unplugged: its units unhealthy, back on rescan.

KD=$E/device-plugins
KOUT=$E/kout
RES=gpu-dma-lock.io/gpu-mem

# Run by engines_start, before the daemons read their CDI specs: the
# binaries into the tmpfs, and the GPUs' own CDI devices (what NVIDIA's
# toolkit would write; here only an environment variable).
k8s_prepare() {
	cp "$B/containers/gpu-dma-lock-device-plugin" "$CTL" "$B/utils/libgpudmalock.so.0" $E/bin/
	{
		printf '{"cdiVersion": "0.5.0", "kind": "gdltest.io/gpu", "devices": ['
		sep=
		for p in $(echo "$pci" | tr , ' '); do
			printf '%s{"name": "%s", "containerEdits": {"env": ["GDLTEST_GPU=%s"]}}' "$sep" "$p" "$p"
			sep=,
		done
		printf ']}\n'
	} >/etc/cdi/gdltest-gpu.json
}

# kl COMMAND: one command to the stand-in, its answer (up to "end").
# No counter kept here: kl runs in $(...), a subshell.
kl() {
	n0=$(grep -c '^end$' $KOUT)
	echo "$*" >&7
	i=0
	while [ "$(grep -c '^end$' $KOUT)" -le "$n0" ] && [ $i -lt 900 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	awk -v n="$n0" '/^end$/ { c++; next } c == n' $KOUT
}

# field LINE KEY: KEY=VALUE's value in an "ok ..." line.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

engines_k8s() {
	part "15: Kubernetes: device plugin, kubelet stand-in, containerd CRI"
	d0=${pci%%,*}
	KL=/tmp/gdl-kubelet-logs
	$CTL device set 0 --capacity 8M >/dev/null || bad "ctl device set 0 --capacity 8M"
	rm -f $KOUT $E/kin
	mkfifo $E/kin
	$G kubelet -s $CS $KD $RES <$E/kin >$KOUT 2>&1 &
	kpid=$!
	exec 7>$E/kin
	PATH=$E/bin:$PATH gpu-dma-lock-device-plugin --plugin-dir $KD --unit 1M \
		--gpu-cdi 'gdltest.io/gpu={pci}' --ctl $E/bin/gpu-dma-lock-ctl --poll 300ms -- \
		--hook "$HOOK" --hook-arg --config --hook-arg $W/oci.conf \
		--interposer "$B/cuda/libgpudmalock-cuda.so" \
		--library "$B/utils/libgpudmalock.so.0" --preload $W/ld.so.preload \
		--cuda-conf $W/cuda.conf >$E/plugin.log 2>&1 7>&- &
	ppid=$!
	out=$(kl wait-registered)
	expect "$out" "registered $RES: 8 units, 8 healthy, GetPreferredAllocation true" \
		"k8s: the plugin registered (v1beta1), ListAndWatch: device 0's 8M as 8 units of 1M"

	# Two pods on the one GPU, 3 and 4 units; the second's pod annotation
	# asks 64M (max_quota allows it), which the grant overrides.  watch
	# sees both refusals (p1's first, most likely: either way), the pod named.
	part "15: pods of 3 and 4 units"
	$CTL watch --count 2 --timeout 120 >$E/watch.out 2>&1 7>&- &
	wpid=$!
	o1=$(kl pod p1 3 e:FAKE_CUDA_PCI="$d0" -- /ctr_cuda 1 10 hold)
	o2=$(kl pod p2 4 a:gpu-dma-lock.io/quota=64M e:FAKE_CUDA_PCI="$d0" -- /ctr_cuda 1 10 hold)
	expect "$o1" "^ok p1 .* units=$d0-u[0-9],$d0-u[0-9],$d0-u[0-9] cdi=gdltest.io/gpu=$d0,gpu-dma-lock.io/agent=alloc-[0-9a-f]* " \
		"k8s: p1 (3 units): GetPreferredAllocation, Allocate: the GPU's CDI device and its allocation's"
	expect "$o2" "^ok p2 " "k8s: p2 (4 units) created through the CRI"
	k1=$(echo "$o1" | sed -n 's/^ok p1 [^ ]* \([^ ]*\) .*/\1/p')
	k2=$(echo "$o2" | sed -n 's/^ok p2 [^ ]* \([^ ]*\) .*/\1/p')
	a1=$(field "$o1" cdi | sed -n 's/.*agent=alloc-\([0-9a-f]*\).*/\1/p')
	echo "Allocate latency (the stand-in's round trip, TCG guest): p1 $(field "$o1" allocate_us) us, p2 $(field "$o2" allocate_us) us"
	i1=$(agent_of "${k1:-none}")
	i2=$(agent_of "${k2:-none}")
	expect "$(wait_log cat $KL/p1/main.log)" \
		"allocs=3 total_mib=3 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
		"k8s: p1 held to its grant by the interposer: 3 x 1 MiB, the 4th CUDA_ERROR_OUT_OF_MEMORY"
	expect "$(wait_log cat $KL/p2/main.log)" \
		"allocs=4 total_mib=4 free_mib=0 result=CUDA_ERROR_OUT_OF_MEMORY" \
		"k8s: p2 held to its grant (4M), its 64M quota annotation ignored"
	wait $wpid
	expect "$(cat $E/watch.out)" "agent=$i1([0-9]*) .*pod=default/p1/main" \
		"k8s: watch: p1's quota refusal, with default/p1/main"
	check "k8s: agents $i1 and $i2: 3M and 4M on device 0, 0 on device 1" \
		test "$(quota 0 "$i1"):$(quota 0 "$i2"):$(quota 1 "$i1"):$(quota 1 "$i2")" = "3145728:4194304:0:0"

	# The scheduler's count: 1 unit left.
	part "15: refusals"
	out=$(kl pod p3 2 e:FAKE_CUDA_PCI="$d0" -- /ctr_cuda 1 1)
	expect "$out" "^refused p3: needs 2 $RES, 1 free of 8" "k8s: p3 (2 units) refused by the count: 1 free"
	check "k8s: no pod made for p3" test "$($CR pods | wc -l)" = 2

	# Another pod's allocation named in a CDI annotation (containerd takes
	# those from the container's annotations): with no units of its own,
	# then with one.
	out=$(kl pod x1 0 "c:cdi.k8s.io/x=gpu-dma-lock.io/agent=alloc-$a1" e:FAKE_CUDA_PCI="$d0" -- /ctr_cuda 1 10 hold)
	expect "$out" "^failed x1: .*allocation $a1 was granted to pod uid-p1, and this container is pod uid-x1's" \
		"k8s: a pod naming p1's allocation is refused by the hook (pod UID from the CRI)"
	out=$(kl pod x2 1 "c:cdi.k8s.io/x=gpu-dma-lock.io/agent=alloc-$a1" e:FAKE_CUDA_PCI="$d0" -- /ctr_cuda 1 10 hold)
	expect "$out" "^failed x2: .*carries 2 Kubernetes allocations" \
		"k8s: a pod with its own allocation and p1's is refused"
	check "k8s: still 2 pods, 2 container agents; p1 keeps 3M" \
		test "$($CR pods | wc -l):$(ctr_agents | wc -l):$(quota 0 "$i1")" = "2:2:3145728"

	# Labels: the CRI's names next to ctr-<hash>.
	part "15: labels"
	expect "$($CTL agent list)" "$i1 .*default/p1/main" "k8s: agent list shows default/p1/main"
	expect "$($CTL stats --prometheus)" \
		"gpu_dma_lock_agent_quota_bytes{agent=\"$i2\",namespace=\"default\",pod=\"p2\",container=\"main\",device=\"0\"} 4194304" \
		"k8s: stats --prometheus: namespace, pod, container labels"
	expect "$($CTL stats --json)" "\"pod\": *\"p1\"" "k8s: stats --json: the pod's name"

	# The pods go: agents retired, labels gone; gc collects allocations.
	part "15: cleanup"
	live=$(has_agent "$i1" && has_agent "$i2" && echo 1)
	out="$(kl down p1)$(kl down p2)"
	expect "$out" "ok down p1ok down p2" "k8s: p1, p2 stopped and removed"
	check "k8s: their agents are retired" retired "$live" "$i1"
	check "k8s: ... both" wait_gone "$i2"
	check "k8s: their labels are gone" test -z "$(ls /run/gpu-dma-lock/agents 2>/dev/null)"
	$CTL gc --grace 0 >$E/gc.out 2>&1
	cat $E/gc.out
	check "k8s: gc removes p1's allocation: record, claim, CDI spec" \
		test ! -e /run/gpu-dma-lock/alloc/"$a1" -a ! -e /run/gpu-dma-lock/alloc/"$a1".claim \
		-a ! -e /var/run/cdi/gpu-dma-lock-alloc-"$a1".json
	check "k8s: gc removed 2 allocations (p1's, p2's); x2's, never claimed, waits" \
		test "$(grep -c 'removed allocation' $E/gc.out)" = 2

	# Device 0 leaves the bus: its 8 units unhealthy, then back.
	part "15: device gone"
	echo 1 >/sys/bus/pci/devices/"$d0"/remove
	expect "$(kl unhealthy 8)" "unhealthy=8 of 8, 0 free" "k8s: device 0 unplugged: its 8 units Unhealthy on ListAndWatch"
	expect "$(kl pod p4 1 -- /ctr_cuda 1 1)" "^refused p4" "k8s: ... and a pod of 1 unit refused"
	echo 1 >/sys/bus/pci/rescan
	expect "$(kl unhealthy 0)" "unhealthy=0 of 8, 8 free" "k8s: device 0 back on rescan: 8 healthy units"

	# The stand-in ends at the end of its input.
	exec 7>&-
	wait $kpid
	kill $ppid
	sed -n 1,30p $E/plugin.log
	rm -f /etc/cdi/gdltest-gpu.json /var/run/cdi/gpu-dma-lock-alloc-*.json
	rm -rf /run/gpu-dma-lock/alloc
	check "k8s: no pod left, no agent left" test "$($CR pods):$(ctr_agents)" = ":"
}
