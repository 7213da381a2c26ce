// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Helpers that the ctl, the OCI hook and the Slurm plugin share: number,
 * size and PCI-address formatting, device selectors, one-line errors into
 * a caller's buffer.  Internal to the project: built into libgpudmalock.a
 * with hidden visibility and linked by each tool, never exported by the
 * shared library (utils/lib/libgpudmalock.map), so nothing outside the
 * tree depends on it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdl_parse.h"
#include "gdlu.h"

/*
 * Decimal or 0x-hex, whole string, no sign: strtoull alone accepts "-1",
 * and with base 0 reads "010" as octal 8, which nobody writing a pid or a
 * count means.
 */
int gdlu_parse_u64(const char *s, uint64_t *out)
{
	bool hex = s && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	if (hex && (!s[2] || s[2] == '-' || s[2] == '+' || s[2] == ' '))
		return -EINVAL;
	errno = 0;
	v = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int gdlu_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;
	int ret = gdlu_parse_u64(s, &v);

	if (ret)
		return ret;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

/* Exact when possible ("512M"), else one decimal ("1.5G"). */
const char *gdlu_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int u = -1;

	if (v == GDL_QUOTA_UNLIMITED) {
		snprintf(buf, len, "unlimited");
		return buf;
	}
	while (u < 5 && v >= (1024ULL << (10 * (u + 1))))
		u++;
	if (u < 0)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else if (!(v & ((1ULL << (10 * (u + 1))) - 1)))
		snprintf(buf, len, "%llu%c",
			 (unsigned long long)(v >> (10 * (u + 1))), units[u]);
	else
		snprintf(buf, len, "%.1f%c",
			 (double)v / (double)(1ULL << (10 * (u + 1))), units[u]);
	return buf;
}

int gdlu_errbuf(char *err, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

void gdlu_fmt_pci_addr(uint32_t domain, uint32_t bdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", domain, bdf >> 8,
		 (bdf >> 3) & 31, bdf & 7);
}

int gdlu_find_device(const struct gdl_device_info *d, int n, const char *sel)
{
	uint32_t idx = 0, dom = 0, bdf = 0;
	bool is_pci = !gdl_parse_pci_addr(sel, &dom, &bdf);
	bool is_idx = !gdlu_parse_u32(sel, &idx);
	int i;

	for (i = 0; i < n; i++) {
		if (is_idx && d[i].index == idx)
			return i;
		if (!strncmp(d[i].name, sel, sizeof(d[i].name)))
			return i;
		if (is_pci && (d[i].flags & GDL_DEV_F_PCI) &&
		    d[i].pci_domain == dom && d[i].pci_bdf == bdf)
			return i;
	}
	return -ENODEV;
}
