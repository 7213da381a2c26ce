/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal streaming JSON writer: enough for the ctl's reports, with
 * correct string escaping and no allocation.  Pretty (indented) for
 * documents, compact for JSON Lines (one event per line in `watch`).
 */
#ifndef GDL_CTL_JSON_H
#define GDL_CTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH	16
#define GDL_SIZE_UNLIMITED	(~(uint64_t)0)

struct jw {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, FILE *f, bool pretty);
/* @key is NULL at the top level and inside arrays. */
void jw_obj(struct jw *w, const char *key);
void jw_arr(struct jw *w, const char *key);
void jw_end(struct jw *w, char close);	/* '}' or ']' */
void jw_str(struct jw *w, const char *key, const char *v); /* NULL: null */
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_i64(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* A byte count, or null for "unlimited" (all ones): JSON numbers above 2^53
 * lose precision in most parsers. */
void jw_size(struct jw *w, const char *key, uint64_t v);
void jw_done(struct jw *w);	/* final newline */
void jw_escape(FILE *f, const char *s);

#endif /* GDL_CTL_JSON_H */
