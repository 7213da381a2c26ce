// SPDX-License-Identifier: GPL-2.0
//
// The node's GPU memory as units: what the ledger says its devices are
// (/proc/gpu_dma_lock/devices, a table that only ever gains columns at
// the end), cut into units of --unit bytes, one device ID per unit,
// named by the GPU's PCI address ("0000:00:04.0-u3").  A device gone
// from the ledger, or marked gone (hot-unplugged), keeps its IDs but
// turns them Unhealthy, so the kubelet stops counting them.
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	api "gpu-dma-lock.io/k8s/v1beta1"
)

// gpu is one ledger device as the plugin advertises it.
type gpu struct {
	index    int
	pci      string
	name     string
	capacity uint64 // bytes
	units    int
	live     bool
}

// readLedger parses the devices table; capacity "unlimited" (not set by
// the admin) becomes fallback, 0 meaning the device is not advertised.
func readLedger(path string, fallback uint64, unit uint64) (map[string]*gpu, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]*gpu{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header: index name pci vendor device capacity used peak reservations source state
	for sc.Scan() {
		c := strings.Fields(sc.Text())
		if len(c) < 11 || c[2] == "-" {
			continue // a manual device without a PCI address: nothing to name its units by
		}
		idx, _ := strconv.Atoi(c[0])
		g := &gpu{index: idx, pci: c[2], name: c[1], live: c[10] == "live"}
		if c[5] == "unlimited" {
			g.capacity = fallback
		} else if g.capacity, err = strconv.ParseUint(c[5], 10, 64); err != nil {
			return nil, fmt.Errorf("%s: capacity %q: %v", path, c[5], err)
		}
		g.units = int(g.capacity / unit)
		out[g.pci] = g
	}
	return out, sc.Err()
}

// unitID names unit u of the GPU at pci.
func unitID(pci string, u int) string { return fmt.Sprintf("%s-u%d", pci, u) }

// splitID is unitID's inverse; ok false for an ID that is not ours.
func splitID(id string) (pci string, ok bool) {
	i := strings.LastIndex(id, "-u")
	if i < 0 {
		return "", false
	}
	if _, err := strconv.Atoi(id[i+2:]); err != nil {
		return "", false
	}
	return id[:i], true
}

// devices is the ListAndWatch answer: every unit of every GPU ever seen
// (seen remembers them), Unhealthy where the GPU is gone now.
func devices(now map[string]*gpu, seen map[string]int) []*api.Device {
	for pci, g := range now {
		if g.units > seen[pci] {
			seen[pci] = g.units
		}
	}
	pcis := make([]string, 0, len(seen))
	for pci := range seen {
		pcis = append(pcis, pci)
	}
	sort.Strings(pcis)
	var out []*api.Device
	for _, pci := range pcis {
		g := now[pci]
		for u := 0; u < seen[pci]; u++ {
			h := api.Unhealthy
			if g != nil && g.live && u < g.units {
				h = api.Healthy
			}
			out = append(out, &api.Device{ID: unitID(pci, u), Health: h})
		}
	}
	return out
}

// pack answers GetPreferredAllocation for one container: the must-include
// units, then whole GPUs' worth from the GPUs that already hold them,
// then from the GPUs with the most available units first, so that the
// request lands on as few GPUs as it can (the fragmentation rule of
// docs/kubernetes.md).  Ties go to the lower PCI address, so the answer
// is the same for the same input.
func pack(available, must []string, size int) []string {
	byGPU := map[string][]string{}
	var order []string
	taken := map[string]bool{}
	out := []string{}
	for _, id := range must {
		if !taken[id] {
			taken[id] = true
			out = append(out, id)
		}
	}
	for _, id := range available {
		pci, ok := splitID(id)
		if !ok || taken[id] {
			continue
		}
		if _, seen := byGPU[pci]; !seen {
			order = append(order, pci)
		}
		byGPU[pci] = append(byGPU[pci], id)
	}
	holds := map[string]bool{}
	for _, id := range must {
		if pci, ok := splitID(id); ok {
			holds[pci] = true
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if holds[a] != holds[b] {
			return holds[a]
		}
		if len(byGPU[a]) != len(byGPU[b]) {
			return len(byGPU[a]) > len(byGPU[b])
		}
		return a < b
	})
	// One GPU that fits the rest alone beats the largest: pick the
	// smallest such (best fit), so the large free GPUs stay whole.
	need := size - len(out)
	if need > 0 && len(must) == 0 {
		best := ""
		for _, pci := range order {
			if n := len(byGPU[pci]); n >= need && (best == "" || n < len(byGPU[best])) {
				best = pci
			}
		}
		if best != "" {
			return append(out, byGPU[best][:need]...)
		}
	}
	for _, pci := range order {
		for _, id := range byGPU[pci] {
			if len(out) >= size {
				return out
			}
			out = append(out, id)
		}
	}
	return out
}
