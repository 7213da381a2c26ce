/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON reader for the OCI hook: the container state on stdin and
 * the bundle's config.json.  The whole text is parsed into a tree of
 * nodes; strings are unescaped (\uXXXX to UTF-8).  Depth and size are
 * bounded, so hostile input costs little and never crashes the hook.
 */
#ifndef GDL_JREAD_H
#define GDL_JREAD_H

#include <stddef.h>

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

struct jr_node {
	enum jr_type type;
	char *key;		/* member name, in an object */
	char *str;		/* JR_STR: the string; JR_NUM: its text */
	int boolean;
	struct jr_node *child;	/* first element or member */
	struct jr_node *next;	/* next sibling */
};

/* Parse @len bytes of @text: the root, or NULL with *@err set. */
struct jr_node *jr_parse(const char *text, size_t len, const char **err);
void jr_free(struct jr_node *n);
/* The member @key of object @obj, or NULL (also when @obj is no object). */
const struct jr_node *jr_get(const struct jr_node *obj, const char *key);
/* The string member @key, or NULL when absent or not a string. */
const char *jr_str(const struct jr_node *obj, const char *key);

#endif /* GDL_JREAD_H */
