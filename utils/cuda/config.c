// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Configuration of the interposer.  What loosens enforcement (fail-open
 * when the module is absent) and the footprint estimates come from a file
 * only an administrator can write, GDL_CUDA_CONF_PATH
 * (/etc/gpu-dma-lock/cuda.conf):
 *
 *   # fail mode when /dev/gpu_dma_lock is absent: closed (default) | open
 *   fail = open
 *   # charged per context (and per primary context), a size
 *   ctx_reserve = 300M
 *
 * The file is used only when it is a regular file owned by root and
 * writable by nobody else, in a directory owned by root and writable by
 * nobody else.  The environment belongs to the tenant, so it may only make
 * things stricter: GDL_CUDA_FAIL=closed overrides the file's open,
 * GDL_CUDA_FAIL=open is ignored unless the file says open too, and
 * GDL_CUDA_CTX_RESERVE may raise the file's estimate, never lower it.
 * GDL_CUDA_LOG (0..2) only changes what is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdl_cuda.h"

#define CONF_MAX 4096

int gdlc_log_level = 1;
int gdlc_fail_open;
uint64_t gdlc_ctx_reserve;

void gdlc_say(int level, const char *fmt, ...)
{
	va_list ap;

	if (gdlc_log_level < level)
		return;
	va_start(ap, fmt);
	fputs("libgpudmalock-cuda: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Root's and nobody else's to change. */
static int admin_owned(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* The directory part of GDL_CUDA_CONF_PATH must be admin-owned too. */
static int dir_admin_owned(void)
{
	char dir[sizeof(GDL_CUDA_CONF_PATH)];
	struct stat st;
	char *slash;

	memcpy(dir, GDL_CUDA_CONF_PATH, sizeof(dir));
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*(slash == dir ? slash + 1 : slash) = 0;
	return !stat(dir, &st) && S_ISDIR(st.st_mode) && admin_owned(&st);
}

/* The file's text in @buf (NUL-terminated), or -1 when it is not trusted. */
static int read_conf(char *buf, size_t len)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(GDL_CUDA_CONF_PATH, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno != ENOENT)
			gdlc_say(1, "%s: %s; ignored", GDL_CUDA_CONF_PATH, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !admin_owned(&st) ||
	    !dir_admin_owned()) {
		gdlc_say(1, "%s: not a regular file owned and only writable by root (in such a directory); ignored",
			 GDL_CUDA_CONF_PATH);
		close(fd);
		return -1;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static void conf_line(char *line, int no, int *fail_open, uint64_t *ctx)
{
	char *eq, *key, *val;
	uint64_t v;

	line = trim(line);
	if (!*line || *line == '#')
		return;
	eq = strchr(line, '=');
	if (!eq) {
		gdlc_say(1, "%s:%d: expected key = value; ignored", GDL_CUDA_CONF_PATH, no);
		return;
	}
	*eq = 0;
	key = trim(line);
	val = trim(eq + 1);
	if (!strcmp(key, "fail")) {
		if (!strcmp(val, "open"))
			*fail_open = 1;
		else if (!strcmp(val, "closed"))
			*fail_open = 0;
		else
			gdlc_say(1, "%s:%d: fail = %s: expected closed or open; using closed",
				 GDL_CUDA_CONF_PATH, no, val);
	} else if (!strcmp(key, "ctx_reserve")) {
		if (gdlock_parse_size(val, &v))
			gdlc_say(1, "%s:%d: ctx_reserve = %s: not a size; ignored",
				 GDL_CUDA_CONF_PATH, no, val);
		else
			*ctx = v;
	} else {
		gdlc_say(1, "%s:%d: unknown key %s; ignored", GDL_CUDA_CONF_PATH, no, key);
	}
}

static void read_admin_conf(int *fail_open, uint64_t *ctx)
{
	char buf[CONF_MAX], *line, *next;
	int no = 0;

	if (read_conf(buf, sizeof(buf)))
		return;
	for (line = buf; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		conf_line(line, ++no, fail_open, ctx);
	}
}

void gdlc_config_init(void)
{
	int fail_open = 0;
	uint64_t ctx = 0, v;
	const char *s;

	s = getenv("GDL_CUDA_LOG");
	if (s && *s >= '0' && *s <= '2')
		gdlc_log_level = *s - '0';
	read_admin_conf(&fail_open, &ctx);
	s = getenv("GDL_CUDA_FAIL");
	if (s && !strcmp(s, "closed")) {
		fail_open = 0;
	} else if (s && !strcmp(s, "open")) {
		if (!fail_open)
			gdlc_say(1, "GDL_CUDA_FAIL=open ignored: only %s can allow unaccounted allocations",
				 GDL_CUDA_CONF_PATH);
	} else if (s && *s) {
		gdlc_say(1, "GDL_CUDA_FAIL=%s: expected closed or open; using closed", s);
		fail_open = 0;
	}
	s = getenv("GDL_CUDA_CTX_RESERVE");
	if (s && *s) {
		if (gdlock_parse_size(s, &v))
			gdlc_say(1, "GDL_CUDA_CTX_RESERVE=%s: not a size; ignored", s);
		else if (v < ctx)
			gdlc_say(1, "GDL_CUDA_CTX_RESERVE=%s is below %s's %llu bytes; ignored",
				 s, GDL_CUDA_CONF_PATH, (unsigned long long)ctx);
		else
			ctx = v;
	}
	gdlc_fail_open = fail_open;
	gdlc_ctx_reserve = ctx;
}
