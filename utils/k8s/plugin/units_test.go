// SPDX-License-Identifier: GPL-2.0
package main

import (
	"reflect"
	"testing"
)

func ids(pci string, n int) (out []string) {
	for u := 0; u < n; u++ {
		out = append(out, unitID(pci, u))
	}
	return out
}

func TestPack(t *testing.T) {
	a, b, c := ids("0000:00:04.0", 8), ids("0000:00:05.0", 3), ids("0000:00:06.0", 5)
	avail := append(append(append([]string{}, a...), b...), c...)
	// Best fit: 3 units fit GPU b exactly, leaving a and c whole.
	if got := pack(avail, nil, 3); !reflect.DeepEqual(got, b) {
		t.Errorf("3 units: %v", got)
	}
	// 4 fit on c (5) rather than a (8).
	if got := pack(avail, nil, 4); !reflect.DeepEqual(got, c[:4]) {
		t.Errorf("4 units: %v", got)
	}
	// 12 fit on no GPU: the largest first, then the next (2 GPUs).
	if got := pack(avail, nil, 12); !reflect.DeepEqual(got, append(append([]string{}, a...), c[:4]...)) {
		t.Errorf("12 units: %v", got)
	}
	// Must-include units first, then more from their GPU.
	if got := pack(avail, []string{b[0]}, 3); !reflect.DeepEqual(got, []string{b[0], b[1], b[2]}) {
		t.Errorf("must b0: %v", got)
	}
	if pci, ok := splitID("0000:00:04.0-u12"); !ok || pci != "0000:00:04.0" {
		t.Errorf("splitID: %q %v", pci, ok)
	}
	if _, ok := splitID("nvidia0"); ok {
		t.Error("splitID took a foreign ID")
	}
}
