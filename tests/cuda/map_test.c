// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the interposer's pointer -> reservation map (handle_map.c),
 * run on the host under AddressSanitizer: single-threaded semantics
 * (replace, take, growth, deletion inside probe runs) and 8 threads
 * inserting and removing overlapping key ranges at once.
 * Prints "map: N passed, M failed".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "handle_map.h"

static int passed, failed;

#define CHECK(c) do {						\
	if (c) {						\
		passed++;					\
	} else {						\
		failed++;					\
		printf("FAIL map: %s (line %d)\n", #c, __LINE__); \
	}							\
} while (0)

#define THREADS 8
#define PER_THREAD 20000

static struct gdl_map shared;

/* Device-pointer-like keys: 2 MiB aligned, so only high bits differ. */
static uint64_t key_of(int t, int i)
{
	return (1ULL << 40) + ((uint64_t)(t * PER_THREAD + i) << 21);
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg, i, bad = 0;
	uint64_t v, old;

	for (i = 0; i < PER_THREAD; i++)
		bad += gdl_map_put(&shared, key_of(t, i), i + 1, &old) != 0;
	/* Take every other one back at once; the rest stay. */
	for (i = 0; i < PER_THREAD; i += 2)
		bad += gdl_map_take(&shared, key_of(t, i), &v) ||
		       v != (uint64_t)i + 1;
	for (i = 1; i < PER_THREAD; i += 2)
		bad += gdl_map_take(&shared, key_of(t, i), &v) ||
		       v != (uint64_t)i + 1;
	return (void *)(intptr_t)bad;
}

int main(void)
{
	struct gdl_map m;
	pthread_t th[THREADS];
	uint64_t v = 0, old = 0;
	int i, bad = 0;
	void *r;

	gdl_map_init(&m);
	CHECK(gdl_map_take(&m, 42, &v) == -ENOENT);
	CHECK(gdl_map_put(&m, 42, 7, &old) == 0);
	CHECK(gdl_map_put(&m, 42, 8, &old) == 1 && old == 7);
	CHECK(gdl_map_count(&m) == 1);
	CHECK(gdl_map_take(&m, 42, &v) == 0 && v == 8);
	CHECK(gdl_map_take(&m, 42, &v) == -ENOENT);
	/* A second value travels with the first. */
	{
		uint64_t aux = 0;

		CHECK(gdl_map_put_aux(&m, 44, 1, 100, &old, &aux) == 0);
		CHECK(gdl_map_put_aux(&m, 44, 2, 200, &old, &aux) == 1 &&
		      old == 1 && aux == 100);
		CHECK(gdl_map_add_aux(&m, 44, 3, 300) == 1);
		CHECK(gdl_map_take_aux(&m, 44, &v, &aux) == 0 && v == 2 && aux == 200);
		CHECK(gdl_map_add_aux(&m, 44, 4, 400) == 0);
		CHECK(gdl_map_take(&m, 44, &v) == 0 && v == 4);
	}
	/* gdl_map_add never replaces. */
	CHECK(gdl_map_add(&m, 43, 9) == 0);
	CHECK(gdl_map_add(&m, 43, 10) == 1);
	CHECK(gdl_map_get(&m, 43, &v) == 0 && v == 9);
	CHECK(gdl_map_take(&m, 43, &v) == 0 && v == 9);
	CHECK(gdl_map_get(&m, 43, &v) == -ENOENT);
	/* Key 0 is a valid key (a NULL-ish handle value never is). */
	CHECK(gdl_map_put(&m, 0, 1, &old) == 0);
	CHECK(gdl_map_take(&m, 0, &v) == 0 && v == 1);
	/* Growth and deletion in the middle of probe runs. */
	for (i = 0; i < 100000; i++)
		bad += gdl_map_put(&m, (uint64_t)i << 12, i + 1, &old) != 0;
	CHECK(bad == 0);
	CHECK(gdl_map_count(&m) == 100000);
	for (i = 0; i < 100000; i += 3)
		bad += gdl_map_take(&m, (uint64_t)i << 12, &v) || v != (uint64_t)i + 1;
	for (i = 0; i < 100000; i++) {
		int r2 = gdl_map_take(&m, (uint64_t)i << 12, &v);

		bad += i % 3 ? (r2 || v != (uint64_t)i + 1) : r2 != -ENOENT;
	}
	CHECK(bad == 0);
	CHECK(gdl_map_count(&m) == 0);
	CHECK(gdl_map_put(&m, 5, 5, &old) == 0);
	gdl_map_clear(&m);
	CHECK(gdl_map_count(&m) == 0 && gdl_map_take(&m, 5, &v) == -ENOENT);
	gdl_map_destroy(&m);

	gdl_map_init(&shared);
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], &r);
		CHECK(r == NULL);
	}
	CHECK(gdl_map_count(&shared) == 0);
	gdl_map_destroy(&shared);

	printf("map: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
