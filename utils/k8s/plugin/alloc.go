// SPDX-License-Identifier: GPL-2.0
//
// Allocate: one allocation per container request.  Its grant (bytes per
// GPU: the units it got there times the unit) goes into a root-owned
// record under --state-dir, and its own CDI device
// gpu-dma-lock.io/agent=alloc-<id> into a spec under --cdi-dir, written
// by `gpu-dma-lock-ctl cdi generate` (the one writer of the spec format,
// which older engines are picky about) with "--alloc <id>" among the OCI
// hook's arguments.  The hook then takes the quota from the record, never
// from the pod's annotations, and binds the allocation to the first pod
// that starts with it (utils/oci/ocialloc.c).  The id is 128 random
// bits: nobody guesses another pod's allocation.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	api "gpu-dma-lock.io/k8s/v1beta1"
)

type allocator struct {
	unit     uint64
	stateDir string   // records: /run/gpu-dma-lock/alloc
	cdiDir   string   // specs: /var/run/cdi
	ctl      string   // gpu-dma-lock-ctl
	cdiArgs  []string // for cdi generate: --hook, --hook-arg, --interposer...
	gpuCDI   string   // the GPU's own CDI device: "nvidia.com/gpu={index}", "" none
	ledger   func() map[string]*gpu
}

// allocate answers one ContainerAllocateRequest.
func (a *allocator) allocate(ids []string) (*api.ContainerAllocateResponse, error) {
	units := map[string]int{}
	for _, id := range ids {
		pci, ok := splitID(id)
		if !ok {
			return nil, fmt.Errorf("device ID %q is not one of this plugin's units", id)
		}
		units[pci]++
	}
	pcis := make([]string, 0, len(units))
	for pci := range units {
		pcis = append(pcis, pci)
	}
	sort.Strings(pcis)
	now := a.ledger()
	var grant []string
	resp := &api.ContainerAllocateResponse{}
	for _, pci := range pcis {
		g := now[pci]
		if g == nil || !g.live {
			return nil, fmt.Errorf("GPU %s is not in the ledger (gone?)", pci)
		}
		grant = append(grant, fmt.Sprintf("%s=%d", pci, uint64(units[pci])*a.unit))
		if a.gpuCDI != "" {
			n := strings.NewReplacer("{pci}", pci, "{index}", fmt.Sprint(g.index),
				"{name}", g.name).Replace(a.gpuCDI)
			resp.CDIDevices = append(resp.CDIDevices, &api.CDIDevice{Name: n})
		}
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(b)
	spec := filepath.Join(a.cdiDir, "gpu-dma-lock-alloc-"+id+".json")
	// The record first: a spec without one is refused by the hook, a
	// record without a spec is harmless (gc collects it).
	rec := fmt.Sprintf("grant = %s\nspec = %s\nunits = %s\n", strings.Join(grant, ","),
		spec, strings.Join(ids, ","))
	if err := writeRoot(filepath.Join(a.stateDir, id), rec); err != nil {
		return nil, err
	}
	args := append([]string{"cdi", "generate", "--output", spec, "--name", "alloc-" + id},
		a.cdiArgs...)
	args = append(args, "--hook-arg", "--alloc", "--hook-arg", id)
	if out, err := exec.Command(a.ctl, args...).CombinedOutput(); err != nil {
		os.Remove(filepath.Join(a.stateDir, id))
		return nil, fmt.Errorf("%s cdi generate: %v: %s", a.ctl, err,
			strings.TrimSpace(string(out)))
	}
	resp.CDIDevices = append(resp.CDIDevices, &api.CDIDevice{Name: "gpu-dma-lock.io/agent=alloc-" + id})
	return resp, nil
}

// writeRoot writes path aside and renames it into place, 0644: readers
// (the hook, gc) never see half a record.
func writeRoot(path, text string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
