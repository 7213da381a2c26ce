// SPDX-License-Identifier: GPL-2.0
//
// gdl-cri kubelet -s CRI-SOCK DIR RESOURCE: the containers tier's
// stand-in for the kubelet's device manager and the scheduler's count of
// an extended resource (test code, never shipped).  It serves the
// Registration service (Device Plugin API v1beta1, utils/k8s/v1beta1) on
// DIR/kubelet.sock, takes the plugin's Register, and then, as the
// kubelet's device manager does: GetDevicePluginOptions, ListAndWatch
// (kept running: its updates are the node's healthy units),
// GetPreferredAllocation for a container's request and Allocate with the
// units it chose, and creates the pod through containerd's CRI with the
// answer's CDI devices in CDIDevices and its annotations on the container
// (runPod, main.go).  Like the scheduler it refuses a pod whose units do
// not fit in the node's healthy, unallocated ones.  Commands on stdin,
// one per line; each answer ends with a line "end":
//
//	wait-registered              the Register and the first list
//	pod NAME UNITS [a:K=V|c:K=V|e:K=V]... -- COMMAND...
//	    "ok NAME POD CTR units=... cdi=... allocate_us=N" or
//	    "refused NAME: ..." (scheduler) or "failed NAME: ..." (runtime)
//	down NAME                    the pod stopped and removed, its cgroup too, its units freed
//	unhealthy N                  wait (30 s at most) for N unhealthy units
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	api "gpu-dma-lock.io/k8s/v1beta1"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

type kubelet struct {
	dir, resource string

	mu       sync.Mutex
	cond     *sync.Cond
	plugin   api.DevicePluginClient
	opts     *api.DevicePluginOptions
	regErr   string
	health   map[string]string // unit ID -> Healthy/Unhealthy, from ListAndWatch
	lists    int               // ListAndWatch updates received
	assigned map[string]string // unit ID -> pod name
	pods     map[string]string // pod name -> sandbox id
}

// Register: the Registration service's one method.
func (k *kubelet) Register(_ context.Context, r *api.RegisterRequest) (*api.Empty, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r.Version != api.Version || r.ResourceName != k.resource {
		k.regErr = fmt.Sprintf("Register: version %q resource %q, want %q %q",
			r.Version, r.ResourceName, api.Version, k.resource)
		k.cond.Broadcast()
		return nil, fmt.Errorf("%s", k.regErr)
	}
	cc, err := grpc.NewClient("unix://"+filepath.Join(k.dir, r.Endpoint),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	k.plugin = api.DevicePluginClient{CC: cc}
	go k.watch()
	return &api.Empty{}, nil
}

// watch: GetDevicePluginOptions, then ListAndWatch for as long as it runs.
func (k *kubelet) watch() {
	ctx := context.Background()
	o, err := k.plugin.GetDevicePluginOptions(ctx)
	fail := func(e error) {
		k.mu.Lock()
		k.regErr = e.Error()
		k.cond.Broadcast()
		k.mu.Unlock()
	}
	if err != nil {
		fail(err)
		return
	}
	st, err := k.plugin.ListAndWatch(ctx)
	if err != nil {
		fail(err)
		return
	}
	for {
		r := new(api.ListAndWatchResponse)
		if err := st.RecvMsg(r); err != nil {
			fail(fmt.Errorf("ListAndWatch: %v", err))
			return
		}
		k.mu.Lock()
		k.opts = o
		k.health = map[string]string{}
		for _, d := range r.Devices {
			k.health[d.ID] = d.Health
		}
		k.lists++
		k.cond.Broadcast()
		k.mu.Unlock()
	}
}

// waitFor: until cond holds (with k.mu held) or 30 s pass.
func (k *kubelet) waitFor(cond func() bool) bool {
	t := time.AfterFunc(30*time.Second, func() { k.mu.Lock(); k.cond.Broadcast(); k.mu.Unlock() })
	defer t.Stop()
	end := time.Now().Add(30 * time.Second)
	for !cond() && k.regErr == "" && time.Now().Before(end) {
		k.cond.Wait()
	}
	return cond()
}

// free: the healthy units no pod holds, sorted.
func (k *kubelet) free() []string {
	var out []string
	for id, h := range k.health {
		if h == api.Healthy && k.assigned[id] == "" {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (k *kubelet) pod(ctx context.Context, rt cri.RuntimeServiceClient, args []string) {
	if len(args) < 3 {
		fmt.Println("usage: pod NAME UNITS [a:K=V|c:K=V|e:K=V]... -- COMMAND...")
		return
	}
	p := podSpec{name: args[0], podAnn: kv{}, ctrAnn: kv{}, env: kv{},
		logs: "/tmp/gdl-kubelet-logs", image: "docker.io/library/gdltest:latest"}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 0 {
		fmt.Printf("usage: UNITS %q\n", args[1])
		return
	}
	for i, a := range args[2:] {
		if a == "--" {
			p.cmd = args[3+i:]
			break
		}
		m := map[string]kv{"a": p.podAnn, "c": p.ctrAnn, "e": p.env}[a[:1]]
		if m == nil || len(a) < 2 || a[1] != ':' || m.Set(a[2:]) != nil {
			fmt.Printf("bad argument %q\n", a)
			return
		}
	}
	k.mu.Lock()
	free := k.free()
	if n > len(free) {
		// The scheduler's count: the pod does not fit on this node.
		fmt.Printf("refused %s: needs %d %s, %d free of %d (0/1 nodes are available: Insufficient %s)\n",
			p.name, n, k.resource, len(free), len(k.health), k.resource)
		k.mu.Unlock()
		return
	}
	var units []string
	if n > 0 {
		units = free[:n]
		if k.opts.GetPreferredAllocationAvailable {
			r, err := k.plugin.GetPreferredAllocation(ctx, &api.PreferredAllocationRequest{
				ContainerRequests: []*api.ContainerPreferredAllocationRequest{{
					AvailableDeviceIDs: free, AllocationSize: int32(n)}}})
			// The kubelet takes the preference only when it is usable.
			if err == nil && len(r.ContainerResponses) == 1 && len(r.ContainerResponses[0].DeviceIDs) == n {
				units = r.ContainerResponses[0].DeviceIDs
			} else {
				fmt.Printf("note: GetPreferredAllocation unusable (%v)\n", err)
			}
		}
		for _, u := range units {
			k.assigned[u] = p.name
		}
	}
	k.mu.Unlock()
	var us int64
	if n > 0 {
		t0 := time.Now()
		r, err := k.plugin.Allocate(ctx, &api.AllocateRequest{
			ContainerRequests: []*api.ContainerAllocateRequest{{DevicesIDs: units}}})
		us = time.Since(t0).Microseconds()
		if err == nil && len(r.ContainerResponses) != 1 {
			err = fmt.Errorf("%d container responses for 1 request", len(r.ContainerResponses))
		}
		if err != nil {
			fmt.Printf("failed %s: Allocate: %v\n", p.name, err)
			k.release(p.name)
			return
		}
		for _, d := range r.ContainerResponses[0].CDIDevices {
			p.cdi = append(p.cdi, d.Name)
		}
		for a, v := range r.ContainerResponses[0].Annotations {
			p.ctrAnn[a] = v
		}
		for e, v := range r.ContainerResponses[0].Envs {
			p.env[e] = v
		}
	}
	pod, ctr, err := runPod(ctx, rt, &p)
	if err != nil {
		// A pod that never ran: as if deleted, its units back.
		fmt.Printf("failed %s: %v (allocate_us=%d)\n", p.name, err, us)
		k.release(p.name)
		return
	}
	k.mu.Lock()
	k.pods[p.name] = pod
	k.mu.Unlock()
	fmt.Printf("ok %s %s %s units=%s cdi=%s allocate_us=%d\n", p.name, pod, ctr,
		strings.Join(units, ","), strings.Join(p.cdi, ","), us)
}

func (k *kubelet) release(name string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for u, p := range k.assigned {
		if p == name {
			delete(k.assigned, u)
		}
	}
	delete(k.pods, name)
}

func kubeletMain(sock string, args []string) {
	if len(args) != 2 {
		die("usage: gdl-cri kubelet -s CRI-SOCK DIR RESOURCE")
	}
	k := &kubelet{dir: args[0], resource: args[1], assigned: map[string]string{},
		pods: map[string]string{}, health: map[string]string{}}
	k.cond = sync.NewCond(&k.mu)
	ks := filepath.Join(k.dir, "kubelet.sock")
	os.MkdirAll(k.dir, 0o755)
	os.Remove(ks)
	l, err := net.Listen("unix", ks)
	if err != nil {
		die("%v", err)
	}
	srv := grpc.NewServer()
	srv.RegisterService(&api.Registration_ServiceDesc, k)
	go srv.Serve(l)
	defer srv.Stop()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		die("%v", err)
	}
	defer conn.Close()
	rt := cri.NewRuntimeServiceClient(conn)

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		switch f[0] {
		case "wait-registered":
			k.mu.Lock()
			if k.waitFor(func() bool { return k.lists > 0 }) {
				fmt.Printf("registered %s: %d units, %d healthy, GetPreferredAllocation %v\n",
					k.resource, len(k.health), len(k.free()), k.opts.GetPreferredAllocationAvailable)
			} else {
				fmt.Printf("not registered: %s\n", k.regErr)
			}
			k.mu.Unlock()
		case "pod":
			k.pod(ctx, rt, f[1:])
		case "down":
			k.mu.Lock()
			pod := k.pods[f[1]]
			k.mu.Unlock()
			_, err := rt.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: pod})
			if err == nil {
				_, err = rt.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: pod})
			}
			if err != nil {
				fmt.Printf("failed down %s: %v\n", f[1], err)
			} else {
				// The kubelet's pod cgroup manager removes the pod's
				// cgroup once the pod is gone (runc leaves the parent).
				os.Remove("/sys/fs/cgroup/kubepods/besteffort/poduid-" + f[1])
				k.release(f[1])
				fmt.Printf("ok down %s\n", f[1])
			}
		case "unhealthy":
			want, _ := strconv.Atoi(f[1])
			k.mu.Lock()
			count := func() (n int) {
				for _, h := range k.health {
					if h != api.Healthy {
						n++
					}
				}
				return n
			}
			k.waitFor(func() bool { return count() == want })
			fmt.Printf("unhealthy=%d of %d, %d free\n", count(), len(k.health), len(k.free()))
			k.mu.Unlock()
		default:
			fmt.Printf("unknown command %q\n", f[0])
		}
		cancel()
		fmt.Println("end")
	}
}
