/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * Parsers shared by the module (its parameters) and userspace (the ctl and
 * the library), so that "16G" means the same thing on both sides.
 */
#ifndef GDL_PARSE_H
#define GDL_PARSE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#endif

#define GDL_PCI_IDS_MAX		16
#define GDL_PCI_ANY_DEVICE	0xffffffffU

struct gdl_pci_id {
	unsigned int vendor;
	unsigned int device;	/* GDL_PCI_ANY_DEVICE: display-class only */
};

#define GDL_KEY_MAJORS_MAX	8
#define GDL_MAJOR_MAX		4095	/* a dev_t major has 12 bits */

int gdl_parse_size(const char *s, unsigned long long *out);
/*
 * "195" or "195,509": decimal character-device majors, 1 to GDL_MAJOR_MAX,
 * at most @max of them (-E2BIG); the empty string is an empty list.
 */
int gdl_parse_majors(const char *s, unsigned int *majors, unsigned int max,
		     unsigned int *nr);
int gdl_parse_pci_ids(const char *s, struct gdl_pci_id *ids, unsigned int max,
		      unsigned int *nr);
/*
 * An agent or device name: a NUL-terminated field of @len bytes, nothing
 * after the NUL, letters, digits and - _ . : @ only.  The ctl checks names
 * with it before asking the kernel, which checks them with it again.
 */
bool gdl_name_valid(const char *name, size_t len, bool allow_empty);
/*
 * Access rights as letters: r, w, p (GDL_ACCESS_*), each at most once, and
 * p alone.  0, or -EINVAL.
 */
int gdl_parse_rights(const char *s, unsigned int *out);
/*
 * A PCI address, as lspci, sysfs, CUDA and NVML print it:
 *
 *	[DOMAIN ":"] BUS ":" DEV "." FN
 *
 * DOMAIN 1 to 8 hex digits (absent: 0; lspci and CUDA print 4, sysfs 5
 * for VMD domains, NVML 8), BUS 1 or 2 hex digits, DEV 1 or 2 hex digits
 * at most 1f, FN one digit 0-7; either case; nothing before or after (no
 * sign, "0x", blank or newline).  Sets *@domain and *@bdf (bus << 8 |
 * dev << 3 | fn, the uapi's pci_bdf); -EINVAL leaves them untouched.
 */
int gdl_parse_pci_addr(const char *s, unsigned int *domain, unsigned int *bdf);
/*
 * The share of a pool of @pool entries an agent gets unless an admin set
 * its own: the module parameter @per_agent, at most the pool, or for 0 a
 * sixteenth of the pool (at least 1).  The module applies it; the ctl
 * computes it to tell whether a share of 0 (the default) is in force.
 */
unsigned int gdl_default_share(unsigned int per_agent, unsigned int pool);

#endif /* GDL_PARSE_H */
