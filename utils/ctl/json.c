// SPDX-License-Identifier: GPL-2.0
/*
 * JSON writer for the ctl; see json.h.
 */
#include "json.h"

void jw_init(struct jw *w, FILE *f, bool pretty)
{
	w->f = f;
	w->pretty = pretty;
	w->depth = 0;
	w->first[0] = true;
}

void jw_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Separator, indentation and key before every value. */
static void jw_pre(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (w->pretty && w->depth)
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
	if (key) {
		jw_escape(w->f, key);
		fputs(w->pretty ? ": " : ":", w->f);
	}
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_pre(w, key);
	fputc(c, w->f);
	/* Deeper than JW_MAX_DEPTH is a programming error: stay in bounds. */
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

void jw_obj(struct jw *w, const char *key)
{
	jw_open(w, key, '{');
}

void jw_arr(struct jw *w, const char *key)
{
	jw_open(w, key, '[');
}

void jw_end(struct jw *w, char close)
{
	bool empty = w->first[w->depth];

	if (w->depth)
		w->depth--;
	if (w->pretty && !empty)
		fprintf(w->f, "\n%*s", 2 * w->depth, "");
	fputc(close, w->f);
}

void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_pre(w, key);
	if (v)
		jw_escape(w->f, v);
	else
		fputs("null", w->f);
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_pre(w, key);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_i64(struct jw *w, const char *key, int64_t v)
{
	jw_pre(w, key);
	fprintf(w->f, "%lld", (long long)v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_pre(w, key);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	jw_pre(w, key);
	fputs("null", w->f);
}

void jw_size(struct jw *w, const char *key, uint64_t v)
{
	if (v == GDL_SIZE_UNLIMITED)
		jw_null(w, key);
	else
		jw_u64(w, key, v);
}

void jw_done(struct jw *w)
{
	fputc('\n', w->f);
	fflush(w->f);
}
