// SPDX-License-Identifier: LGPL-2.1-or-later
/* The interposer's object -> reservation map; see handle_map.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handle_map.h"

/* splitmix64's finaliser: device pointers share their low and high bits. */
static uint64_t mix(uint64_t k)
{
	k ^= k >> 30;
	k *= 0xbf58476d1ce4e5b9ULL;
	k ^= k >> 27;
	k *= 0x94d049bb133111ebULL;
	return k ^ (k >> 31);
}

static struct gdl_map_shard *shard_of(struct gdl_map *m, uint64_t h)
{
	return &m->shard[h >> 60 & (GDL_MAP_SHARDS - 1)];
}

void gdl_map_init(struct gdl_map *m)
{
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < GDL_MAP_SHARDS; i++)
		pthread_mutex_init(&m->shard[i].lock, NULL);
}

void gdl_map_destroy(struct gdl_map *m)
{
	int i;

	for (i = 0; i < GDL_MAP_SHARDS; i++) {
		free(m->shard[i].slots);
		pthread_mutex_destroy(&m->shard[i].lock);
	}
	memset(m, 0, sizeof(*m));
}

/* Slot of @key, or of the empty slot that ends its probe sequence. */
static size_t find(const struct gdl_map_shard *s, uint64_t key, uint64_t h)
{
	size_t i = h & (s->cap - 1);

	while (s->slots[i].val && s->slots[i].key != key)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int grow(struct gdl_map_shard *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64, i;
	struct gdl_map_shard n = { .cap = ncap, .used = s->used };

	n.slots = calloc(ncap, sizeof(*n.slots));
	if (!n.slots)
		return -ENOMEM;
	for (i = 0; i < s->cap; i++) {
		struct gdl_map_slot *o = &s->slots[i];

		if (o->val)
			n.slots[find(&n, o->key, mix(o->key))] = *o;
	}
	free(s->slots);
	s->slots = n.slots;
	s->cap = ncap;
	return 0;
}

/*
 * Insert, or find key present: 1 with its values in *old, *old_aux
 * (replaced if @replace).
 */
static int insert(struct gdl_map *m, uint64_t key, uint64_t val, uint64_t aux,
		  uint64_t *old, uint64_t *old_aux, int replace)
{
	uint64_t h = mix(key);
	struct gdl_map_shard *s = shard_of(m, h);
	int ret = 0;
	size_t i;

	pthread_mutex_lock(&s->lock);
	/* Keep the load factor under 1/2 so probe sequences stay short. */
	if ((s->used + 1) * 2 > s->cap && grow(s)) {
		ret = -ENOMEM;
		goto out;
	}
	i = find(s, key, h);
	if (s->slots[i].val) {
		*old = s->slots[i].val;
		*old_aux = s->slots[i].aux;
		ret = 1;
		if (!replace)
			goto out;
	} else {
		s->used++;
	}
	s->slots[i].key = key;
	s->slots[i].val = val;
	s->slots[i].aux = aux;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int gdl_map_put(struct gdl_map *m, uint64_t key, uint64_t val, uint64_t *old)
{
	uint64_t old_aux;

	return insert(m, key, val, 0, old, &old_aux, 1);
}

int gdl_map_put_aux(struct gdl_map *m, uint64_t key, uint64_t val,
		    uint64_t aux, uint64_t *old, uint64_t *old_aux)
{
	return insert(m, key, val, aux, old, old_aux, 1);
}

int gdl_map_add(struct gdl_map *m, uint64_t key, uint64_t val)
{
	uint64_t old, old_aux;

	return insert(m, key, val, 0, &old, &old_aux, 0);
}

int gdl_map_add_aux(struct gdl_map *m, uint64_t key, uint64_t val,
		    uint64_t aux)
{
	uint64_t old, old_aux;

	return insert(m, key, val, aux, &old, &old_aux, 0);
}

int gdl_map_get_aux(struct gdl_map *m, uint64_t key, uint64_t *val,
		    uint64_t *aux)
{
	uint64_t h = mix(key);
	struct gdl_map_shard *s = shard_of(m, h);
	int ret = -ENOENT;
	size_t i;

	pthread_mutex_lock(&s->lock);
	if (s->cap) {
		i = find(s, key, h);
		if (s->slots[i].val) {
			*val = s->slots[i].val;
			*aux = s->slots[i].aux;
			ret = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

size_t gdl_map_snapshot(struct gdl_map *m, struct gdl_map_slot **out)
{
	struct gdl_map_slot *v = NULL, *n;
	size_t nr = 0, cap = 0, i;
	int k;

	for (k = 0; k < GDL_MAP_SHARDS; k++) {
		struct gdl_map_shard *s = &m->shard[k];

		pthread_mutex_lock(&s->lock);
		if (nr + s->used > cap) {
			cap = (nr + s->used) * 2;
			n = realloc(v, cap * sizeof(*v));
			if (!n) {
				pthread_mutex_unlock(&s->lock);
				free(v);
				*out = NULL;
				return 0;
			}
			v = n;
		}
		for (i = 0; i < s->cap; i++)
			if (s->slots[i].val)
				v[nr++] = s->slots[i];
		pthread_mutex_unlock(&s->lock);
	}
	*out = v;
	return nr;
}

int gdl_map_get(struct gdl_map *m, uint64_t key, uint64_t *val)
{
	uint64_t aux;

	return gdl_map_get_aux(m, key, val, &aux);
}

int gdl_map_take(struct gdl_map *m, uint64_t key, uint64_t *val)
{
	uint64_t aux;

	return gdl_map_take_aux(m, key, val, &aux);
}

int gdl_map_take_aux(struct gdl_map *m, uint64_t key, uint64_t *val,
		     uint64_t *aux)
{
	uint64_t h = mix(key);
	struct gdl_map_shard *s = shard_of(m, h);
	size_t i, j, mask;
	int ret = -ENOENT;

	pthread_mutex_lock(&s->lock);
	if (!s->cap)
		goto out;
	mask = s->cap - 1;
	i = find(s, key, h);
	if (!s->slots[i].val)
		goto out;
	*val = s->slots[i].val;
	*aux = s->slots[i].aux;
	s->used--;
	ret = 0;
	/*
	 * Backward-shift deletion: move later members of the probe run into
	 * the hole when their home slot does not lie in (hole, their slot].
	 */
	for (j = (i + 1) & mask; s->slots[j].val; j = (j + 1) & mask) {
		size_t home = mix(s->slots[j].key) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i].val = 0;
	s->slots[i].key = 0;
	s->slots[i].aux = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

size_t gdl_map_count(struct gdl_map *m)
{
	size_t n = 0;
	int i;

	for (i = 0; i < GDL_MAP_SHARDS; i++) {
		pthread_mutex_lock(&m->shard[i].lock);
		n += m->shard[i].used;
		pthread_mutex_unlock(&m->shard[i].lock);
	}
	return n;
}

void gdl_map_clear(struct gdl_map *m)
{
	int i;

	for (i = 0; i < GDL_MAP_SHARDS; i++) {
		struct gdl_map_shard *s = &m->shard[i];

		pthread_mutex_lock(&s->lock);
		if (s->cap)
			memset(s->slots, 0, s->cap * sizeof(*s->slots));
		s->used = 0;
		pthread_mutex_unlock(&s->lock);
	}
}

void gdl_map_lock_all(struct gdl_map *m)
{
	int i;

	for (i = 0; i < GDL_MAP_SHARDS; i++)
		pthread_mutex_lock(&m->shard[i].lock);
}

void gdl_map_unlock_all(struct gdl_map *m)
{
	int i;

	for (i = GDL_MAP_SHARDS - 1; i >= 0; i--)
		pthread_mutex_unlock(&m->shard[i].lock);
}
