/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal helpers shared by the ctl, the OCI hook and the Slurm plugin
 * (utils/lib/gdlu.c): in libgpudmalock.a, hidden from the shared library.
 */
#ifndef GDL_GDLU_H
#define GDL_GDLU_H

#include <stddef.h>
#include <stdint.h>

#include "gpudmalock.h"

/* Decimal or 0x-hex, the whole string, no sign. */
int gdlu_parse_u64(const char *s, uint64_t *out);
int gdlu_parse_u32(const char *s, uint32_t *out);
/* "512M" when exact, else one decimal ("1.5G"); "unlimited". */
const char *gdlu_fmt_size(uint64_t v, char *buf, size_t len);
/* DDDD:BB:DD.F */
void gdlu_fmt_pci_addr(uint32_t domain, uint32_t bdf, char *buf, size_t len);
/*
 * For parsers that report into a caller's buffer (the OCI hook's and the
 * Slurm plugin's configuration): format into @err (if any), return @ret.
 */
int gdlu_errbuf(char *err, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Device selector: index, name or PCI address; -ENODEV when none. */
int gdlu_find_device(const struct gdl_device_info *d, int n, const char *sel);

#endif /* GDL_GDLU_H */
