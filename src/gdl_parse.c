// SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later
/*
 * Parsers shared by the module and userspace (dual-licensed, as the LGPL
 * library links them): no allocation, no libc or kernel helpers beyond
 * what both have, every overflow checked.
 */
#include "gdl_parse.h"
#include "uapi/gpu_dma_lock.h"

#ifdef __KERNEL__
#include <linux/errno.h>
#else
#include <errno.h>
#endif

static int gdl_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int gdl_hex_digit(int c)
{
	c = gdl_lower(c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int gdl_word_is(const char *s, const char *word)
{
	while (*word && gdl_lower(*s) == *word) {
		s++;
		word++;
	}
	return !*word && (!*s || (*s == '\n' && !s[1]));
}

/*
 * "4096", "512K", "16G", "1T" (powers of 1024, optional "B" or "iB"),
 * "unlimited" or "max" (all ones).  A trailing newline is accepted, as
 * sysfs writes carry one.  -EINVAL for anything else, -ERANGE on overflow.
 */
int gdl_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int shift = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	if (gdl_word_is(s, "unlimited") || gdl_word_is(s, "max")) {
		*out = ~0ULL;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = *p - '0';

		if (v > (~0ULL - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	switch (gdl_lower(*p)) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	}
	if (shift) {
		p++;
		if (gdl_lower(*p) == 'i' && gdl_lower(p[1]) == 'b')
			p += 2;
		else if (gdl_lower(*p) == 'b')
			p++;
	} else if (gdl_lower(*p) == 'b') {
		p++;
	}
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	if (shift && v > (~0ULL >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

/*
 * 1 to @max hex digits at *@pp, into *@out; moves *@pp past them.  The
 * number of digits, or -EINVAL (none, or more than @max).
 */
static int gdl_parse_hex(const char **pp, unsigned int max, unsigned int *out)
{
	const char *p = *pp;
	unsigned int v = 0, n = 0;
	int d;

	while ((d = gdl_hex_digit(*p)) >= 0) {
		if (++n > max)
			return -EINVAL;
		v = v << 4 | d;
		p++;
	}
	if (!n)
		return -EINVAL;
	*pp = p;
	*out = v;
	return n;
}

/*
 * "10de,1002" or "10de:2330,1234:11e8": hex vendor[:device] pairs.  A bare
 * vendor matches that vendor's display controllers (class 03xx) only; a
 * vendor:device pair matches that exact device whatever its class.  The
 * empty string disables discovery.
 */
int gdl_parse_pci_ids(const char *s, struct gdl_pci_id *ids, unsigned int max,
		      unsigned int *nr)
{
	const char *p = s;
	unsigned int n = 0;
	int ret;

	if (!s)
		return -EINVAL;
	while (*p && *p != '\n') {
		if (n == max)
			return -E2BIG;
		ret = gdl_parse_hex(&p, 4, &ids[n].vendor);
		if (ret < 0)
			return ret;
		ids[n].device = GDL_PCI_ANY_DEVICE;
		if (*p == ':') {
			p++;
			ret = gdl_parse_hex(&p, 4, &ids[n].device);
			if (ret < 0)
				return ret;
		}
		n++;
		if (*p == ',' && p[1] && p[1] != '\n')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	if (*p == '\n' && p[1])
		return -EINVAL;
	*nr = n;
	return 0;
}

int gdl_parse_majors(const char *s, unsigned int *majors, unsigned int max,
		     unsigned int *nr)
{
	const char *p = s;
	unsigned int n = 0, v;

	if (!s)
		return -EINVAL;
	while (*p && *p != '\n') {
		if (n == max)
			return -E2BIG;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (v = 0; *p >= '0' && *p <= '9'; p++) {
			v = v * 10 + (*p - '0');
			if (v > GDL_MAJOR_MAX)
				return -EINVAL;
		}
		if (!v)
			return -EINVAL;
		majors[n++] = v;
		if (*p == ',' && p[1] && p[1] != '\n')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	if (*p == '\n' && p[1])
		return -EINVAL;
	*nr = n;
	return 0;
}

int gdl_parse_pci_addr(const char *s, unsigned int *domain, unsigned int *bdf)
{
	unsigned int first, second, dom = 0, bus, dev;
	const char *p = s;
	int n;

	if (!s)
		return -EINVAL;
	n = gdl_parse_hex(&p, 8, &first);
	if (n < 0 || *p != ':')
		return -EINVAL;
	p++;
	if (gdl_parse_hex(&p, 2, &second) < 0)
		return -EINVAL;
	if (*p == ':') {	/* DOMAIN:BUS:DEV.FN */
		p++;
		dom = first;
		bus = second;
		if (gdl_parse_hex(&p, 2, &dev) < 0)
			return -EINVAL;
	} else {		/* BUS:DEV.FN */
		if (n > 2)
			return -EINVAL;
		bus = first;
		dev = second;
	}
	if (*p != '.' || p[1] < '0' || p[1] > '7' || p[2] || dev > 0x1f)
		return -EINVAL;
	*domain = dom;
	*bdf = bus << 8 | dev << 3 | (p[1] - '0');
	return 0;
}

bool gdl_name_valid(const char *name, size_t len, bool allow_empty)
{
	size_t i;

	for (i = 0; i < len && name[i]; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == ':' || c == '@'))
			return false;
	}
	if (i == len)		/* not NUL-terminated */
		return false;
	for (; i < len; i++)	/* no hidden bytes after the terminator */
		if (name[i])
			return false;
	return allow_empty || name[0];
}

int gdl_parse_rights(const char *s, unsigned int *out)
{
	unsigned int r = 0, bit;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		switch (*s) {
		case 'r':
			bit = GDL_ACCESS_READ;
			break;
		case 'w':
			bit = GDL_ACCESS_WRITE;
			break;
		case 'p':
			bit = GDL_ACCESS_PEER;
			break;
		default:
			return -EINVAL;
		}
		if (r & bit)
			return -EINVAL;
		r |= bit;
	}
	if ((r & GDL_ACCESS_PEER) && r != GDL_ACCESS_PEER)
		return -EINVAL;
	*out = r;
	return 0;
}

#define GDL_SHARE_DIVISOR	16

unsigned int gdl_default_share(unsigned int per_agent, unsigned int pool)
{
	if (per_agent)
		return per_agent < pool ? per_agent : pool;
	return pool / GDL_SHARE_DIVISOR ? pool / GDL_SHARE_DIVISOR : 1;
}
