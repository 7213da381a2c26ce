// SPDX-License-Identifier: GPL-2.0
/*
 * The OCI hook's JSON reader (see jread.h): recursive descent over RFC 8259,
 * strict about what it accepts, bounded in depth.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jread.h"

#define JR_MAX_DEPTH 64

struct jr_in {
	const char *p, *end;
	const char *err;
	int depth;
};

static void jr_ws(struct jr_in *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' ||
				   *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static struct jr_node *jr_new(struct jr_in *in, enum jr_type t)
{
	struct jr_node *n = calloc(1, sizeof(*n));

	if (!n)
		in->err = "out of memory";
	else
		n->type = t;
	return n;
}

static int jr_hex4(const char *p, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t jr_utf8(unsigned int cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at in->p (the opening quote); a new NUL-terminated copy. */
static char *jr_string(struct jr_in *in)
{
	const char *s = ++in->p;
	char *out, *o;
	unsigned int cp, lo;

	/* Unescaped text is never longer than the escaped. */
	while (in->p < in->end && *in->p != '"')
		in->p += (*in->p == '\\' && in->p + 1 < in->end) ? 2 : 1;
	if (in->p >= in->end) {
		in->err = "unterminated string";
		return NULL;
	}
	out = malloc(in->p - s + 1);
	if (!out) {
		in->err = "out of memory";
		return NULL;
	}
	for (o = out; s < in->p; s++) {
		if ((unsigned char)*s < 0x20)
			goto bad;
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case '"':
		case '\\':
		case '/':
			*o++ = *s;
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (in->p - s < 5 || jr_hex4(s + 1, &cp))
				goto bad;
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && in->p - s >= 7 &&
			    s[1] == '\\' && s[2] == 'u' && !jr_hex4(s + 3, &lo) &&
			    lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
			if (!cp)
				goto bad;	/* no NUL inside a C string */
			o += jr_utf8(cp, o);
			break;
		default:
			goto bad;
		}
	}
	*o = 0;
	in->p++;
	return out;
bad:
	free(out);
	in->err = "bad string";
	return NULL;
}

static struct jr_node *jr_value(struct jr_in *in);

static struct jr_node *jr_container(struct jr_in *in, int obj)
{
	struct jr_node *n = jr_new(in, obj ? JR_OBJ : JR_ARR), **tail, *c;
	char close = obj ? '}' : ']';
	char *key = NULL;

	if (!n)
		return NULL;
	if (++in->depth > JR_MAX_DEPTH) {
		in->err = "nested too deeply";
		goto fail;
	}
	tail = &n->child;
	in->p++;
	jr_ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		in->depth--;
		return n;
	}
	for (;;) {
		jr_ws(in);
		if (obj) {
			if (in->p >= in->end || *in->p != '"') {
				in->err = "expected a member name";
				goto fail;
			}
			key = jr_string(in);
			if (!key)
				goto fail;
			jr_ws(in);
			if (in->p >= in->end || *in->p != ':') {
				in->err = "expected ':'";
				goto fail;
			}
			in->p++;
		}
		c = jr_value(in);
		if (!c)
			goto fail;
		c->key = key;
		key = NULL;
		*tail = c;
		tail = &c->next;
		jr_ws(in);
		if (in->p < in->end && *in->p == ',') {
			in->p++;
			continue;
		}
		if (in->p < in->end && *in->p == close) {
			in->p++;
			in->depth--;
			return n;
		}
		in->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
		goto fail;
	}
fail:
	free(key);
	jr_free(n);
	return NULL;
}

static int jr_word(struct jr_in *in, const char *w)
{
	size_t l = strlen(w);

	if ((size_t)(in->end - in->p) < l || memcmp(in->p, w, l))
		return 0;
	in->p += l;
	return 1;
}

static int jr_digits(struct jr_in *in)
{
	const char *s = in->p;

	while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
		in->p++;
	return in->p > s;
}

/*
 * RFC 8259's number, exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * (a set like strchr("0123456789.eE+-", c) also matches the NUL that
 * ends it, and lets "1-2" or "0x" through).
 */
static struct jr_node *jr_number(struct jr_in *in)
{
	const char *s = in->p;
	struct jr_node *n;

	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p < in->end && *in->p == '0')
		in->p++;
	else if (!jr_digits(in))
		goto bad;
	if (in->p < in->end && *in->p == '.') {
		in->p++;
		if (!jr_digits(in))
			goto bad;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (!jr_digits(in))
			goto bad;
	}
	n = jr_new(in, JR_NUM);
	if (!n)
		return NULL;
	n->str = strndup(s, in->p - s);
	if (!n->str) {
		in->err = "out of memory";
		free(n);
		return NULL;
	}
	return n;
bad:
	in->err = "bad number";
	return NULL;
}

static struct jr_node *jr_value(struct jr_in *in)
{
	struct jr_node *n;

	jr_ws(in);
	if (in->p >= in->end) {
		in->err = "unexpected end";
		return NULL;
	}
	switch (*in->p) {
	case '{':
		return jr_container(in, 1);
	case '[':
		return jr_container(in, 0);
	case '"':
		n = jr_new(in, JR_STR);
		if (n) {
			n->str = jr_string(in);
			if (!n->str) {
				free(n);
				n = NULL;
			}
		}
		return n;
	case 't':
	case 'f':
	case 'n':
		if (jr_word(in, "true") || jr_word(in, "false")) {
			n = jr_new(in, JR_BOOL);
			if (n)
				n->boolean = in->p[-1] == 'e' && in->p[-2] == 'u';
			return n;
		}
		if (jr_word(in, "null"))
			return jr_new(in, JR_NULL);
		in->err = "unexpected word";
		return NULL;
	default:
		return jr_number(in);
	}
}

struct jr_node *jr_parse(const char *text, size_t len, const char **err)
{
	struct jr_in in = { .p = text, .end = text + len };
	struct jr_node *n;

	n = jr_value(&in);
	if (n) {
		jr_ws(&in);
		if (in.p != in.end) {
			in.err = "trailing text";
			jr_free(n);
			n = NULL;
		}
	}
	if (!n && err)
		*err = in.err ? in.err : "parse error";
	return n;
}

void jr_free(struct jr_node *n)
{
	struct jr_node *next;

	for (; n; n = next) {
		next = n->next;
		jr_free(n->child);
		free(n->key);
		free(n->str);
		free(n);
	}
}

const struct jr_node *jr_get(const struct jr_node *obj, const char *key)
{
	const struct jr_node *c, *found = NULL;

	if (!obj || obj->type != JR_OBJ)
		return NULL;
	/* The last of duplicate members wins, as in most readers. */

	for (c = obj->child; c; c = c->next)
		if (!strcmp(c->key, key))
			found = c;
	return found;
}

const char *jr_str(const struct jr_node *obj, const char *key)
{
	const struct jr_node *n = jr_get(obj, key);

	return n && n->type == JR_STR ? n->str : NULL;
}
