/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A thread-safe map from a CUDA object (device pointer, VMM handle, array,
 * context) to the kernel ledger's reservation handle.  Sharded by key hash
 * so that threads allocating at once rarely share a lock; each shard is an
 * open-addressing table with linear probing and backward-shift deletion
 * (no tombstones, so lookups stay short however long the process runs).
 */
#ifndef GDL_HANDLE_MAP_H
#define GDL_HANDLE_MAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define GDL_MAP_SHARDS 16

struct gdl_map_slot {
	uint64_t key;
	uint64_t val;
	uint64_t aux;	/* carried with val, 0 unless the _aux calls set it */
};

struct gdl_map_shard {
	pthread_mutex_t lock;
	struct gdl_map_slot *slots;	/* val == 0 marks an empty slot */
	size_t cap;			/* a power of two, or 0 */
	size_t used;
};

struct gdl_map {
	struct gdl_map_shard shard[GDL_MAP_SHARDS];
};

void gdl_map_init(struct gdl_map *m);
void gdl_map_destroy(struct gdl_map *m);
/*
 * Insert key -> val (val != 0).  Returns 0, 1 when an existing entry was
 * replaced (its value stored in *old), or -ENOMEM.
 */
int gdl_map_put(struct gdl_map *m, uint64_t key, uint64_t val, uint64_t *old);
/*
 * Insert key -> val only when key is absent: 0 inserted, 1 present (left
 * as it is), or -ENOMEM.
 */
int gdl_map_add(struct gdl_map *m, uint64_t key, uint64_t val);
/* The same, carrying a second value (*old_aux: the replaced one's). */
int gdl_map_put_aux(struct gdl_map *m, uint64_t key, uint64_t val,
		    uint64_t aux, uint64_t *old, uint64_t *old_aux);
int gdl_map_add_aux(struct gdl_map *m, uint64_t key, uint64_t val,
		    uint64_t aux);
int gdl_map_take_aux(struct gdl_map *m, uint64_t key, uint64_t *val,
		     uint64_t *aux);
/* Look key up; 0 with its value in *val, or -ENOENT. */
int gdl_map_get(struct gdl_map *m, uint64_t key, uint64_t *val);
int gdl_map_get_aux(struct gdl_map *m, uint64_t key, uint64_t *val,
		    uint64_t *aux);
/* Remove key; 0 with its value in *val, or -ENOENT. */
int gdl_map_take(struct gdl_map *m, uint64_t key, uint64_t *val);
size_t gdl_map_count(struct gdl_map *m);
/*
 * A copy of every entry, each shard's at one moment (*out: malloc'd, the
 * caller frees it); 0 entries when the copy cannot be made.
 */
size_t gdl_map_snapshot(struct gdl_map *m, struct gdl_map_slot **out);
/* Forget every entry without looking at it (a fork child). */
void gdl_map_clear(struct gdl_map *m);
/* Hold every shard lock across fork() so the child sees whole tables. */
void gdl_map_lock_all(struct gdl_map *m);
void gdl_map_unlock_all(struct gdl_map *m);

#endif /* GDL_HANDLE_MAP_H */
