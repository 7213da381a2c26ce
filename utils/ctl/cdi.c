// SPDX-License-Identifier: GPL-2.0
/*
 * cdi generate: the Container Device Interface spec that gives a
 * container the whole gpu-dma-lock setup with one device name,
 * gpu-dma-lock.io/agent=default (docs/fleet.md): the ledger's node, the
 * CUDA interposer and libgpudmalock mounted read-only, a read-only
 * /etc/ld.so.preload naming the interposer (so it loads even when the
 * workload clears LD_PRELOAD), the host's /etc/gpu-dma-lock/cuda.conf
 * over whatever the image has there, and the OCI hook for createRuntime
 * and poststop.
 *
 * A spec that mounts a host path which is not there breaks every
 * container that asks for the device ("crun: error stat'ing file"), so
 * nothing is written unless every host path it names exists, except
 * cuda.conf, which is created with the packaged defaults when it is
 * missing (one line says so).  --root DIR checks (and creates) them under
 * DIR while the spec names them as on the node: make install, which
 * writes the spec into a package's staging tree.
 *
 * cdiVersion 0.5.0 is the newest that podman 4.3 (Debian 12) reads: its
 * CDI library drops a whole spec of a newer version, or with a field it
 * does not know, so only 0.5.0 fields are written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "json.h"

#ifndef GDL_LIBDIR
#define GDL_LIBDIR "/usr/lib/x86_64-linux-gnu"
#endif
#ifndef GDL_LIBEXECDIR
#define GDL_LIBEXECDIR "/usr/libexec/gpu-dma-lock"
#endif
#ifndef GDL_DATADIR
#define GDL_DATADIR "/usr/share/gpu-dma-lock"
#endif

#define CDI_KIND	"gpu-dma-lock.io/agent"
#define CDI_OUTPUT	"/etc/cdi/gpu-dma-lock.json"
/* Where the container sees them: one fixed place, whatever the image. */
#define CTR_DIR		"/usr/lib/gpu-dma-lock"
#define CTR_INTERPOSER	CTR_DIR "/libgpudmalock-cuda.so"
#define CTR_LIBRARY	CTR_DIR "/libgpudmalock.so.0"
/*
 * The interposer trusts a root-owned cuda.conf for its fail mode and
 * footprint estimates.  Inside a container "root-owned" means the image's
 * author, that is the tenant: the host's file is mounted over it.
 */
#define CUDA_CONF	"/etc/gpu-dma-lock/cuda.conf"
#define MAX_HOOK_ARGS	8

/* utils/cuda/cuda.conf, the packaged defaults, as a C string (built). */
static const char cuda_conf_defaults[] =
#include "cuda_conf.h"
	;

struct cdi_opts {
	const char *output, *name, *hook, *interposer, *library, *preload,
		   *cuda_conf, *root;
	const char *hook_args[MAX_HOOK_ARGS];
	int nhook_args;
};

static void cdi_mount(struct jw *w, const char *host, const char *ctr)
{
	jw_obj(w, NULL);
	jw_str(w, "hostPath", host);
	jw_str(w, "containerPath", ctr);
	jw_arr(w, "options");
	jw_str(w, NULL, "ro");
	jw_str(w, NULL, "nosuid");
	jw_str(w, NULL, "nodev");
	jw_str(w, NULL, "bind");
	jw_end(w, ']');
	jw_end(w, '}');
}

static void cdi_hook(struct jw *w, const struct cdi_opts *o, const char *stage)
{
	int i;

	jw_obj(w, NULL);
	jw_str(w, "hookName", stage);
	jw_str(w, "path", o->hook);
	jw_arr(w, "args");
	jw_str(w, NULL, "gpu-dma-lock-oci-hook");
	for (i = 0; i < o->nhook_args; i++)
		jw_str(w, NULL, o->hook_args[i]);
	jw_str(w, NULL, stage);
	jw_end(w, ']');
	jw_end(w, '}');
}

static void cdi_write(FILE *f, const struct cdi_opts *o)
{
	struct jw w;

	jw_init(&w, f, true);
	jw_obj(&w, NULL);
	jw_str(&w, "cdiVersion", "0.5.0");
	jw_str(&w, "kind", CDI_KIND);
	jw_arr(&w, "devices");
	jw_obj(&w, NULL);
	jw_str(&w, "name", o->name);
	jw_obj(&w, "containerEdits");
	jw_arr(&w, "deviceNodes");
	jw_obj(&w, NULL);
	jw_str(&w, "path", GDL_DEVICE_PATH);
	/*
	 * 0666 inside the container, whatever the host's udev rule says:
	 * the container's user may be anyone, and what it may do is decided
	 * by the kernel from the cgroup binding, not by the node's mode.
	 */
	jw_u64(&w, "fileMode", 0666);
	jw_str(&w, "permissions", "rw");
	jw_end(&w, '}');
	jw_end(&w, ']');
	jw_arr(&w, "mounts");
	cdi_mount(&w, o->interposer, CTR_INTERPOSER);
	cdi_mount(&w, o->library, CTR_LIBRARY);
	cdi_mount(&w, o->preload, "/etc/ld.so.preload");
	if (strcmp(o->cuda_conf, "none"))
		cdi_mount(&w, o->cuda_conf, CUDA_CONF);
	jw_end(&w, ']');
	jw_arr(&w, "hooks");
	cdi_hook(&w, o, "createRuntime");
	cdi_hook(&w, o, "poststop");
	jw_end(&w, ']');
	jw_end(&w, '}');
	jw_end(&w, '}');
	jw_end(&w, ']');
	jw_end(&w, '}');
	jw_done(&w);
}

/* @path under --root (or as it is), in @buf; false if it does not fit. */
static bool cdi_host_path(const struct cdi_opts *o, const char *path,
			  char *buf, size_t len)
{
	return snprintf(buf, len, "%s%s", o->root ? o->root : "", path) <
	       (int)len;
}

/*
 * The mkdir -p of @path's parent, 0755 (/etc/cdi; /etc/gpu-dma-lock, which
 * the interposer trusts only when nobody but root may write there).
 */
static int cdi_mkdir_parents(char *path)
{
	char *p;
	int ret = 0;

	for (p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			ret = -errno;
		*p = '/';
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * cuda.conf missing: write the packaged defaults aside, then link them
 * into place, so the interposer never reads half a file and an admin's
 * file written meanwhile is kept.  1 if created, 0 if it was there,
 * -errno on failure.
 */
static int cdi_create_cuda_conf(const char *path)
{
	char buf[4096], tmp[4096 + 16];
	size_t len = sizeof(cuda_conf_defaults) - 1;
	int fd, ret = 0;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf) ||
	    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	ret = cdi_mkdir_parents(buf);
	if (ret)
		return ret;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (fchmod(fd, 0644) || write(fd, cuda_conf_defaults, len) != (ssize_t)len) {
		ret = errno ? -errno : -EIO;
		close(fd);
		goto out;
	}
	if (close(fd)) {
		ret = -errno;
		goto out;
	}
	if (link(tmp, path))
		ret = errno == EEXIST ? 0 : -errno;
	else
		ret = 1;
out:
	unlink(tmp);
	return ret;
}

/*
 * Every host path the spec names must be there: a mount whose source is
 * missing fails every container that asks for the device, and so does a
 * hook that cannot be run.  0, or an exit code (printed).
 */
static int cdi_check_paths(const struct cdi_opts *o, FILE *say)
{
	static const char *const what[] = {
		"--hook (the OCI hook)", "--interposer (the CUDA interposer)",
		"--library (libgpudmalock)", "--preload (the ld.so.preload file)",
	};
	const char *paths[] = { o->hook, o->interposer, o->library, o->preload };
	const char *why;
	char buf[4096];
	struct stat st;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (paths[i][0] != '/') {
			fprintf(stderr, "cdi generate: %s %s: not an absolute path; nothing written\n",
				what[i], paths[i]);
			return EXIT_USAGE;
		}
		if (!cdi_host_path(o, paths[i], buf, sizeof(buf))) {
			fprintf(stderr, "cdi generate: %s: path too long\n", what[i]);
			return EXIT_USAGE;
		}
		if (stat(buf, &st))
			why = errno == ENOENT ? "no such file" : strerror(errno);
		else if (!S_ISREG(st.st_mode))
			why = "not a regular file";
		else if (i == 0 && !(st.st_mode & 0111))
			why = "not executable";
		else
			continue;
		fprintf(stderr, "cdi generate: %s %s: %s; nothing written (every container given the device would fail to start)\n",
			what[i], buf, why);
		return EXIT_FAIL;
	}
	if (!strcmp(o->cuda_conf, "none"))
		return EXIT_OK;
	if (o->cuda_conf[0] != '/') {
		fprintf(stderr, "cdi generate: --cuda-conf %s: not an absolute path; nothing written\n",
			o->cuda_conf);
		return EXIT_USAGE;
	}
	if (!cdi_host_path(o, o->cuda_conf, buf, sizeof(buf))) {
		fprintf(stderr, "cdi generate: --cuda-conf: path too long\n");
		return EXIT_USAGE;
	}
	if (!stat(buf, &st)) {
		if (S_ISREG(st.st_mode))
			return EXIT_OK;
		fprintf(stderr, "cdi generate: --cuda-conf %s: not a regular file; nothing written\n",
			buf);
		return EXIT_FAIL;
	}
	ret = errno == ENOENT ? cdi_create_cuda_conf(buf) : -errno;
	if (ret < 0) {
		fprintf(stderr, "cdi generate: %s is missing and cannot be created (%s); nothing written (every container given the device would fail to start)\n",
			buf, strerror(-ret));
		return EXIT_FAIL;
	}
	if (ret > 0)
		fprintf(say, "cdi: %s was missing: created it with the packaged defaults (fail = closed)\n",
			buf);
	return EXIT_OK;
}

static int cdi_generate(int argc, char **argv)
{
	struct cdi_opts o = {
		.output = CDI_OUTPUT,
		.name = "default",
		.hook = GDL_LIBEXECDIR "/gpu-dma-lock-oci-hook",
		.interposer = GDL_LIBDIR "/gpu-dma-lock/libgpudmalock-cuda.so",
		.library = GDL_LIBDIR "/libgpudmalock.so.0",
		.preload = GDL_DATADIR "/ld.so.preload",
		.cuda_conf = CUDA_CONF,
	};
	const char **opt;
	char tmp[4096];
	FILE *f;
	int i, ret;

	for (i = 1; i < argc; i++) {
		opt = NULL;
		if (!strcmp(argv[i], "--output"))
			opt = &o.output;
		else if (!strcmp(argv[i], "--name"))
			opt = &o.name;
		else if (!strcmp(argv[i], "--hook"))
			opt = &o.hook;
		else if (!strcmp(argv[i], "--interposer"))
			opt = &o.interposer;
		else if (!strcmp(argv[i], "--library"))
			opt = &o.library;
		else if (!strcmp(argv[i], "--preload"))
			opt = &o.preload;
		else if (!strcmp(argv[i], "--cuda-conf"))
			opt = &o.cuda_conf;
		else if (!strcmp(argv[i], "--root"))
			opt = &o.root;
		else if (!strcmp(argv[i], "--hook-arg") && o.nhook_args < MAX_HOOK_ARGS)
			opt = &o.hook_args[o.nhook_args++];
		if (!opt || i + 1 == argc)
			return ctl_usage_err("cdi generate", "unexpected argument '%s'",
					     argv[i]);
		*opt = argv[++i];
	}
	/* CDI names: two or more characters (podman 4.3 crashes on one). */
	if (strlen(o.name) < 2 || strspn(o.name, "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:") !=
	    strlen(o.name))
		return ctl_usage_err("cdi generate",
				     "--name '%s': two or more of A-Z a-z 0-9 _ . - :",
				     o.name);
	/* With the spec on stdout, what was checked goes to stderr. */
	ret = cdi_check_paths(&o, strcmp(o.output, "-") ? stdout : stderr);
	if (ret)
		return ret;
	if (!strcmp(o.output, "-")) {
		cdi_write(stdout, &o);
		return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
	}
	/* Written aside and renamed: an engine never reads half a spec. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", o.output) >= (int)sizeof(tmp))
		return ctl_usage_err("cdi generate", "--output: path too long");
	/* A node that never had a CDI spec has no /etc/cdi. */
	ret = cdi_mkdir_parents(tmp);
	if (ret) {
		fprintf(stderr, "cdi generate: cannot make the directory of %s: %s\n",
			o.output, strerror(-ret));
		return EXIT_FAIL;
	}
	f = fopen(tmp, "we");
	if (!f) {
		fprintf(stderr, "cdi generate: cannot write %s: %m\n", tmp);
		return EXIT_FAIL;
	}
	cdi_write(f, &o);
	if (fclose(f) || rename(tmp, o.output)) {
		fprintf(stderr, "cdi generate: cannot write %s: %m\n", o.output);
		unlink(tmp);
		return EXIT_FAIL;
	}
	printf("cdi: wrote %s: device %s=%s\n", o.output, CDI_KIND, o.name);
	return EXIT_OK;
}

static const struct ctl_cmd cdi_cmds[] = {
	{ "generate", NULL, "generate [--output FILE|-] [--name NAME] [--hook PATH] [--hook-arg ARG]... [--interposer PATH] [--library PATH] [--preload PATH] [--cuda-conf PATH|none] [--root DIR]" },
	{ NULL, NULL, NULL }
};

int cmd_cdi(struct ctl *c, int argc, char **argv)
{
	(void)c;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		ctl_print_usage(argc < 2 ? stderr : stdout, "cdi", cdi_cmds);
		if (argc >= 2)
			printf("\nWrites the CDI spec (cdiVersion 0.5.0, default %s) that\n"
			       "gives a container the ledger's node, the CUDA interposer in\n"
			       "/etc/ld.so.preload and the OCI hook: podman run --device %s=default.\n"
			       "Every host path it names must exist, or nothing is written; a\n"
			       "missing cuda.conf is created with the packaged defaults.  --root DIR\n"
			       "checks them under DIR (a staging tree).  Changes nothing in the ledger.\n",
			       CDI_OUTPUT, CDI_KIND);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "generate"))
		return ctl_usage_err("cdi", "unknown command '%s'", argv[1]);
	return cdi_generate(argc - 1, argv + 1);
}
