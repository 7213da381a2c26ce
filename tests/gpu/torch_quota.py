# SPDX-License-Identifier: GPL-2.0
"""PyTorch under libgpudmalock-cuda.so on a real GPU.

    python3 torch_quota.py QUOTA_MIB     (0: no module, fail-open mode)

Checks that torch.cuda.mem_get_info() reports the quota, that the caching
allocator (and, with PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True, the
VMM path; with backend:cudaMallocAsync, stream-ordered pools) hits
torch.OutOfMemoryError at the quota, and that freed memory can be
allocated again; that a CUDA graph (allocations captured into it) runs;
and prints the charged footprint next to the driver's per-process figure
(nvidia-smi's used_memory for this pid).  Prints "gpu-torch: N passed, M
failed".
"""
import os
import sys
import time

import torch

quota = int(sys.argv[1]) << 20 if len(sys.argv) > 1 else 0
passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + "gpu-torch: " + what, flush=True)
    if ok:
        passed += 1
    else:
        failed += 1


free, total = torch.cuda.mem_get_info()
print(f"mem_get_info: total {total} free {free}; "
      f"alloc conf {os.environ.get('PYTORCH_CUDA_ALLOC_CONF', '')}")
if quota:
    check(total == quota, "torch.cuda.mem_get_info() total is the quota")
t = time.monotonic()
x = torch.ones(1 << 20, device="cuda")
torch.cuda.synchronize()
check(float(x.sum()) == float(1 << 20), "a kernel runs")
print(f"first tensor (context + allocation): {time.monotonic() - t:.3f}s")
if quota:
    blocks = []
    try:
        while len(blocks) < 100000:
            blocks.append(torch.empty(64 << 20, dtype=torch.uint8, device="cuda"))
        check(False, "allocation past the quota raises OutOfMemoryError")
    except torch.OutOfMemoryError:
        check(True, "allocation past the quota raises OutOfMemoryError")
    check(len(blocks) * (64 << 20) <= quota, f"{len(blocks)} x 64 MiB fit within the quota")
    del blocks
    torch.cuda.empty_cache()
    y = torch.empty(64 << 20, dtype=torch.uint8, device="cuda")
    check(y.numel() == 64 << 20, "memory freed by empty_cache() is allocatable again")

# A CUDA graph whose capture allocates (graph memory with cudaMallocAsync).
static_in = torch.ones(1 << 20, device="cuda")
g = torch.cuda.CUDAGraph()
with torch.cuda.graph(g):
    tmp = static_in * 2
    static_out = tmp.sum()
g.replay()
torch.cuda.synchronize()
check(float(static_out) == 2.0 * (1 << 20), "a CUDA graph with a captured allocation replays")


def nvml_used_mib():
    """The driver's figure for this process (nvidia-smi), or None."""
    try:
        import subprocess
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                              "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        pid, _, used = line.partition(",")
        if pid.strip() == str(os.getpid()):
            return int(used)
    return None


free, total = torch.cuda.mem_get_info()
print(f"footprint: charged {(total - free) >> 20} MiB (quota view: total - free), "
      f"driver per process {nvml_used_mib()} MiB, "
      f"torch reserved {torch.cuda.memory_reserved() >> 20} MiB")
print(f"gpu-torch: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
