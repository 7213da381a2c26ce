# SPDX-License-Identifier: GPL-2.0
"""PyTorch under libgpudmalock-cuda.so on a real GPU.

    python3 torch_quota.py QUOTA_MIB     (0: no module, fail-open mode)

Checks that torch.cuda.mem_get_info() reports the quota, that the caching
allocator (and, when PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True, the
VMM path) hits torch.OutOfMemoryError at the quota, and that freed memory
can be allocated again.  Prints "gpu-torch: N passed, M failed".
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
print(f"gpu-torch: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
