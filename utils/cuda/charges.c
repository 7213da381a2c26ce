// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A set of charges held for memory the driver keeps on our behalf and
 * reports as one figure (a pool's or a device's graph memory reserved
 * bytes): charged in chunks as it grows, settled against the figure.
 * The caller serialises access.
 */
#include <stdlib.h>

#include "gdl_cuda.h"

int gdlc_charges_add(struct gdlc_charges *c, uint64_t resv, uint64_t size)
{
	if (c->nr == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct gdlc_chunk *n = realloc(c->chunks, ncap * sizeof(*n));

		if (!n)
			return -1;
		c->chunks = n;
		c->cap = ncap;
	}
	c->chunks[c->nr].resv = resv;
	c->chunks[c->nr].size = size;
	c->nr++;
	c->charged += size;
	return 0;
}

/* Give back the chunks that @need no longer takes. */
void gdlc_charges_settle(struct gdlc_charges *c, uint64_t need)
{
	size_t i = 0;

	while (i < c->nr) {
		if (c->charged - c->chunks[i].size >= need) {
			gdlc_release(c->chunks[i].resv);
			c->charged -= c->chunks[i].size;
			c->chunks[i] = c->chunks[--c->nr];
		} else {
			i++;
		}
	}
}

/* Charge up to @need on @dev: 0, or -1 when the quota refuses it. */
int gdlc_charges_top_up(struct gdlc_charges *c, CUdevice dev, uint64_t need)
{
	uint64_t h;

	if (need <= c->charged)
		return 0;
	if (gdlc_reserve(dev, need - c->charged, &h))
		return -1;
	gdlc_keep(h);
	if (h && gdlc_charges_add(c, h, need - c->charged))
		gdlc_say(1, "out of memory tracking a charge; it stays until exit");
	return 0;
}

void gdlc_charges_drop(struct gdlc_charges *c)
{
	gdlc_charges_settle(c, 0);
	free(c->chunks);
	c->chunks = NULL;
	c->cap = 0;
}
