// SPDX-License-Identifier: GPL-2.0
//
// gpu-dma-lock-device-plugin: GPU memory as a Kubernetes extended
// resource (docs/kubernetes.md).  It speaks the kubelet's Device Plugin
// API v1beta1 (utils/k8s/v1beta1): serves DevicePlugin on a socket in
// --plugin-dir, registers it with the kubelet's Registration service on
// kubelet.sock there, and registers again whenever the kubelet restarts
// (kubelet.sock made anew, which also removes our socket).
//
//	gpu-dma-lock-device-plugin [--resource gpu-dma-lock.io/gpu-mem]
//	    [--unit 1G] [--capacity SIZE] [--plugin-dir DIR] [--cdi-dir DIR]
//	    [--state-dir DIR] [--gpu-cdi 'nvidia.com/gpu={index}'] [--ctl PATH]
//	    [--ledger /proc/gpu_dma_lock/devices] [--poll 2s] [-- CDI-GENERATE-ARGS...]
//
// Arguments after "--" go to `gpu-dma-lock-ctl cdi generate` for every
// allocation's spec (--hook, --hook-arg, --interposer, --library,
// --preload, --cuda-conf), as for the node's default spec.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	api "gpu-dma-lock.io/k8s/v1beta1"
)

// parseSize: bytes, or with K/M/G/T (powers of 1024), as the ctl reads sizes.
func parseSize(s string) (uint64, error) {
	mul := uint64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K', 'k':
			mul = 1 << 10
		case 'M', 'm':
			mul = 1 << 20
		case 'G', 'g':
			mul = 1 << 30
		case 'T', 't':
			mul = 1 << 40
		}
		if mul != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 || v > ^uint64(0)/mul {
		return 0, fmt.Errorf("%q is not a size (1G, 512M, ...)", s)
	}
	return v * mul, nil
}

type plugin struct {
	a      *allocator
	ledger string
	fall   uint64
	poll   time.Duration

	mu      sync.Mutex
	seen    map[string]int
	last    []*api.Device
	changed chan struct{} // closed and replaced when last changes
}

func (p *plugin) readLedger() map[string]*gpu {
	m, err := readLedger(p.ledger, p.fall, p.a.unit)
	if err != nil {
		log.Printf("%v (every unit unhealthy until it reads again)", err)
		return map[string]*gpu{}
	}
	return m
}

// refresh re-reads the ledger; true when the device list changed.
func (p *plugin) refresh() {
	now := p.readLedger()
	p.mu.Lock()
	defer p.mu.Unlock()
	d := devices(now, p.seen)
	if !reflect.DeepEqual(d, p.last) {
		p.last = d
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

func (p *plugin) GetDevicePluginOptions(context.Context, *api.Empty) (*api.DevicePluginOptions, error) {
	return &api.DevicePluginOptions{GetPreferredAllocationAvailable: true}, nil
}

// ListAndWatch: the whole list now, then again on every change.
func (p *plugin) ListAndWatch(_ *api.Empty, s grpc.ServerStream) error {
	for {
		p.mu.Lock()
		d, ch := p.last, p.changed
		p.mu.Unlock()
		if err := s.SendMsg(&api.ListAndWatchResponse{Devices: d}); err != nil {
			return err
		}
		select {
		case <-ch:
		case <-s.Context().Done():
			return nil
		}
	}
}

func (p *plugin) GetPreferredAllocation(_ context.Context, r *api.PreferredAllocationRequest) (*api.PreferredAllocationResponse, error) {
	out := &api.PreferredAllocationResponse{}
	for _, c := range r.ContainerRequests {
		out.ContainerResponses = append(out.ContainerResponses, &api.ContainerPreferredAllocationResponse{
			DeviceIDs: pack(c.AvailableDeviceIDs, c.MustIncludeDeviceIDs, int(c.AllocationSize))})
	}
	return out, nil
}

func (p *plugin) Allocate(_ context.Context, r *api.AllocateRequest) (*api.AllocateResponse, error) {
	out := &api.AllocateResponse{}
	for _, c := range r.ContainerRequests {
		cr, err := p.a.allocate(c.DevicesIDs)
		if err != nil {
			log.Printf("Allocate %v: %v", c.DevicesIDs, err)
			return nil, err
		}
		log.Printf("Allocate %v: %v", c.DevicesIDs, cr.CDIDevices)
		out.ContainerResponses = append(out.ContainerResponses, cr)
	}
	return out, nil
}

func (p *plugin) PreStartContainer(context.Context, *api.PreStartContainerRequest) (*api.PreStartContainerResponse, error) {
	return &api.PreStartContainerResponse{}, nil
}

// serve runs one registration: our socket, Register, then wait until the
// kubelet's socket is made anew (a kubelet restart).
func (p *plugin) serve(dir, resource string) error {
	name := strings.ReplaceAll(resource, "/", "_") + ".sock"
	sock := filepath.Join(dir, name)
	os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	srv.RegisterService(&api.DevicePlugin_ServiceDesc, p)
	go srv.Serve(l)
	defer srv.Stop()

	kubelet := filepath.Join(dir, "kubelet.sock")
	var st0 syscall.Stat_t
	if err := syscall.Stat(kubelet, &st0); err != nil {
		return err
	}
	cc, err := grpc.NewClient("unix://"+kubelet, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = api.Register(ctx, cc, &api.RegisterRequest{Version: api.Version, Endpoint: name,
		ResourceName: resource, Options: &api.DevicePluginOptions{GetPreferredAllocationAvailable: true}})
	cancel()
	cc.Close()
	if err != nil {
		return fmt.Errorf("Register with %s: %v", kubelet, err)
	}
	log.Printf("registered %s as %s with %s", resource, name, kubelet)
	for {
		time.Sleep(p.poll)
		p.refresh()
		var st syscall.Stat_t
		if syscall.Stat(kubelet, &st) != nil || st.Ino != st0.Ino {
			log.Printf("%s is gone or new: registering again", kubelet)
			return nil
		}
		if syscall.Stat(sock, &st) != nil {
			log.Printf("%s was removed: registering again", sock)
			return nil
		}
	}
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gpu-dma-lock-device-plugin: ")
	resource := flag.String("resource", "gpu-dma-lock.io/gpu-mem", "the extended resource")
	unit := flag.String("unit", "1G", "bytes per unit")
	capacity := flag.String("capacity", "", "a GPU's memory when the ledger has no capacity for it (empty: such GPUs are not advertised)")
	dir := flag.String("plugin-dir", api.DevicePluginPath, "the kubelet's device-plugin directory")
	cdiDir := flag.String("cdi-dir", "/var/run/cdi", "where the allocations' CDI specs go")
	stateDir := flag.String("state-dir", "/run/gpu-dma-lock/alloc", "where the allocations' records go (read by the OCI hook)")
	gpuCDI := flag.String("gpu-cdi", "nvidia.com/gpu={index}", "the GPU's own CDI device ({pci}, {index}, {name}); empty: none")
	ctl := flag.String("ctl", "/usr/sbin/gpu-dma-lock-ctl", "gpu-dma-lock-ctl, which writes the specs")
	ledger := flag.String("ledger", "/proc/gpu_dma_lock/devices", "the ledger's device table")
	poll := flag.Duration("poll", 2*time.Second, "how often the ledger and kubelet.sock are looked at")
	flag.Parse()

	u, err := parseSize(*unit)
	if err != nil {
		log.Fatalf("--unit: %v", err)
	}
	var fall uint64
	if *capacity != "" {
		if fall, err = parseSize(*capacity); err != nil {
			log.Fatalf("--capacity: %v", err)
		}
	}
	for _, d := range []string{*stateDir, *cdiDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	p := &plugin{ledger: *ledger, fall: fall, poll: *poll, seen: map[string]int{},
		changed: make(chan struct{})}
	p.a = &allocator{unit: u, stateDir: *stateDir, cdiDir: *cdiDir, ctl: *ctl,
		cdiArgs: flag.Args(), gpuCDI: *gpuCDI, ledger: p.readLedger}
	p.refresh()
	for {
		if err := p.serve(*dir, *resource); err != nil {
			log.Printf("%v (trying again)", err)
			time.Sleep(*poll)
		}
	}
}
