// SPDX-License-Identifier: GPL-2.0
/*
 * Argument parsing and formatting shared by the subcommands: pure
 * functions, unit-tested on the host (tests/ctl/unit).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/*
 * Decimal or 0x-hex, whole string, no sign: strtoull alone accepts "-1",
 * and with base 0 reads "010" as octal 8, which nobody writing a pid or a
 * count means.
 */
int ctl_parse_u64(const char *s, uint64_t *out)
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

int ctl_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;
	int ret = ctl_parse_u64(s, &v);

	if (ret)
		return ret;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

/*
 * The most serious first: absent, unhealthy, permission, stale.  Not the
 * codes' numeric order (permission is 4, unhealthy 5): a broken module is
 * worth more to know than that this user may not look at it.
 */
bool ctl_status_worse(int a, int b)
{
	static const int order[] = { EXIT_ABSENT, EXIT_UNHEALTHY, EXIT_PERM,
				     EXIT_STALE };
	unsigned int i, ra = 99, rb = 99;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == a)
			ra = i;
		if (order[i] == b)
			rb = i;
	}
	return ra < rb;
}

/* The module's own parser, so "16G" means what it means to the module. */
int ctl_parse_size(const char *s, uint64_t *out)
{
	if (s && *s && s[strlen(s) - 1] == '\n')
		return -EINVAL;	/* the shared parser allows it for sysfs */
	return gdlock_parse_size(s, out);
}

/* Any of r, w, p, once each; peer ("p") stands alone in the ABI. */
/* The module's own rule (src/gdl_parse.c), as the /proc check uses it. */
int ctl_parse_rights(const char *s, uint32_t *out)
{
	return gdlock_parse_rights(s, out);
}

const char *ctl_rights_str(uint32_t rights, char buf[4])
{
	char *p = buf;

	if (rights & GDL_ACCESS_READ)
		*p++ = 'r';
	if (rights & GDL_ACCESS_WRITE)
		*p++ = 'w';
	if (rights & GDL_ACCESS_PEER)
		*p++ = 'p';
	*p = 0;
	return buf;
}

/* Exact when possible ("512M"), else one decimal ("1.5G"). */
const char *ctl_fmt_size(uint64_t v, char *buf, size_t len)
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

int ctl_errbuf(char *err, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

void ctl_fmt_pci_addr(uint32_t domain, uint32_t bdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", domain, bdf >> 8,
		 (bdf >> 3) & 31, bdf & 7);
}

int ctl_find_device(const struct gdl_device_info *d, int n, const char *sel)
{
	uint32_t idx = 0, dom = 0, bdf = 0;
	bool is_pci = !gdl_parse_pci_addr(sel, &dom, &bdf);
	bool is_idx = !ctl_parse_u32(sel, &idx);
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

int ctl_find_agent(const struct gdl_agent_info *a, int n, const char *sel)
{
	uint32_t id = 0;
	bool is_id = !ctl_parse_u32(sel, &id);
	int i;

	/* A name wins over an id: agent "7" is found by name first. */
	for (i = 0; i < n; i++)
		if (!strncmp(a[i].name, sel, sizeof(a[i].name)))
			return i;
	for (i = 0; is_id && i < n; i++)
		if (a[i].id == id)
			return i;
	return -ENOENT;
}
