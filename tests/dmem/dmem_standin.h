/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dmem_standin: the ioctls of the test-only GPU driver stand-in
 * (tests/dmem/dmem_standin.c; never packaged).
 */
#ifndef DMEM_STANDIN_H
#define DMEM_STANDIN_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Charge *arg bytes to the caller's cgroup, as a driver's allocation. */
#define DMEM_STANDIN_CHARGE	_IOW('D', 1, __u64)
/* Give back everything this open file charged. */
#define DMEM_STANDIN_UNCHARGE	_IO('D', 2)

#endif /* DMEM_STANDIN_H */
