/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Looking a device up by index through libgpudmalock, for the C test
 * programs run in the VM (tests/vm/itest.c, tests/hostile/hotplug.c).
 */
#ifndef GDL_TDEVICE_H
#define GDL_TDEVICE_H

#include <errno.h>

#include "gpudmalock.h"

/* Device @index as DEVICE_LIST reports it; -ENODEV when it is not listed. */
static inline int t_device_of(struct gdlock *g, uint32_t index,
			      struct gdl_device_info *out)
{
	struct gdl_device_info d[GDL_MAX_DEVICES];
	int n = gdlock_device_list(g, d, GDL_MAX_DEVICES), i;

	for (i = 0; i < n && i < GDL_MAX_DEVICES; i++) {
		if (d[i].index == index) {
			*out = d[i];
			return 0;
		}
	}
	return -ENODEV;
}

#endif
