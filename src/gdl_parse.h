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
#include <stdint.h>
#include <stddef.h>
#endif

#define GDL_PCI_IDS_MAX		16
#define GDL_PCI_ANY_DEVICE	0xffffffffU

struct gdl_pci_id {
	unsigned int vendor;
	unsigned int device;	/* GDL_PCI_ANY_DEVICE: display-class only */
};

int gdl_parse_size(const char *s, unsigned long long *out);
int gdl_parse_pci_ids(const char *s, struct gdl_pci_id *ids, unsigned int max,
		      unsigned int *nr);

#endif /* GDL_PARSE_H */
