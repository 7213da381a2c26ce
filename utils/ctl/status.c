// SPDX-License-Identifier: GPL-2.0
/*
 * status, load and unload: the module's load state through libkmod.
 *
 * "Is the right module loaded?" has three parts: the kernel's view
 * (initstate, refcount, holders, parameters from /sys/module), the file
 * kmod would load for the running kernel (modules.dep, honouring updates/
 * and DKMS's directories), and whether the two are the same build: the
 * srcversion the kernel recorded at load against the one in that file's
 * .modinfo.  A mismatch is what an operator hits after DKMS rebuilt the
 * module on upgrade but the old one is still running.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libkmod.h>

#include "ctl.h"
#include "dmem.h"
#include "json.h"

#define SYS_MODULE	"/sys/module/" GDL_MODULE_NAME
#define PROC_DIR	"/proc/gpu_dma_lock"
#define MAX_PARAMS	16
#define MAX_HOLDERS	8
#define MAX_PROBLEMS	8

struct mod_status {
	const char *state;	/* live, builtin, coming, going, absent */
	char version[64];
	char srcversion[64];
	char path[4096];	/* installed file; empty when none */
	char file_version[64];
	char file_srcversion[64];
	long refcnt;
	int nr_holders;
	char holders[MAX_HOLDERS][64];
	int nr_params;
	struct param {
		char name[64];
		char value[160];
	} params[MAX_PARAMS];
	bool dev_present, dev_open, proc_present, proc_readable;
	char dev_mode[16];
	struct gdl_version ver;
	bool have_ver;
	/* Each device's enforcement: its dmem region, or "" (interposer). */
	int nr_dev;
	struct {
		char name[GDL_NAME_LEN];
		char region[GDLU_DMEM_NAME];
	} dev[GDL_MAX_DEVICES];
	int nr_problems;
	const char *problems[MAX_PROBLEMS];
	int exit_code;
};

/* First line of a small sysfs file, without its newline; "" if absent. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

static void problem(struct mod_status *s, int code, const char *msg)
{
	if (s->nr_problems < MAX_PROBLEMS)
		s->problems[s->nr_problems++] = msg;
	/* The most serious wins. */
	if (s->exit_code == EXIT_OK || ctl_status_worse(code, s->exit_code))
		s->exit_code = code;
}

static struct kmod_ctx *ctl_kmod(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);

	if (!ctx)
		fprintf(stderr, "libkmod: cannot initialise (is /lib/modules/$(uname -r) there?)\n");
	return ctx;
}

static void read_file_info(struct kmod_module *mod, struct mod_status *s)
{
	struct kmod_list *info = NULL, *l;
	const char *path = kmod_module_get_path(mod);

	if (!path)
		return;
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (kmod_module_get_info(mod, &info) < 0)
		return;
	kmod_list_foreach(l, info) {
		const char *k = kmod_module_info_get_key(l);
		const char *v = kmod_module_info_get_value(l);

		if (!strcmp(k, "srcversion"))
			snprintf(s->file_srcversion, sizeof(s->file_srcversion), "%s", v);
		else if (!strcmp(k, "version"))
			snprintf(s->file_version, sizeof(s->file_version), "%s", v);
	}
	kmod_module_info_free_list(info);
}

static int param_cmp(const void *a, const void *b)
{
	return strcmp(((const struct param *)a)->name,
		      ((const struct param *)b)->name);
}

static void read_params(struct mod_status *s)
{
	DIR *d = opendir(SYS_MODULE "/parameters");
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d)) && s->nr_params < MAX_PARAMS) {
		struct param *p = &s->params[s->nr_params];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p->name, sizeof(p->name), "%.63s", e->d_name);
		snprintf(path, sizeof(path), SYS_MODULE "/parameters/%s", e->d_name);
		read_line(path, p->value, sizeof(p->value));
		s->nr_params++;
	}
	closedir(d);
	/* readdir order is arbitrary: sort by name for stable output. */
	qsort(s->params, s->nr_params, sizeof(s->params[0]), param_cmp);
}

/* Where the kernel enforces each device's quotas (docs/dmem.md). */
static void enforcement(struct gdlock *g, struct mod_status *s)
{
	struct gdlu_dmem_dev m[GDL_MAX_DEVICES];
	struct gdl_device_info *d;
	int n = ctl_devices(g, &d), i;

	if (n <= 0)
		return;
	n = n > GDL_MAX_DEVICES ? GDL_MAX_DEVICES : n;
	gdlu_dmem_map(d, n, m);
	for (i = 0; i < n; i++) {
		snprintf(s->dev[i].name, sizeof(s->dev[i].name), "%s", d[i].name);
		snprintf(s->dev[i].region, sizeof(s->dev[i].region), "%s", m[i].region);
	}
	s->nr_dev = n;
	free(d);
}

static void check_nodes(struct ctl *c, struct mod_status *s)
{
	struct gdlock *g;
	struct stat st;
	int ret;

	s->dev_present = !stat(c->dev_path, &st) && S_ISCHR(st.st_mode);
	if (!s->dev_present) {
		problem(s, EXIT_UNHEALTHY, "device node missing: is udev running? (udevadm trigger --subsystem-match=misc)");
	} else {
		snprintf(s->dev_mode, sizeof(s->dev_mode), "%04o", st.st_mode & 07777);
		ret = gdlock_open_path(c->dev_path, &g);
		if (ret) {
			problem(s, EXIT_PERM, "device node not accessible to this user: run as root or fix the udev rule");
		} else {
			s->dev_open = true;
			if (!gdlock_version(g, &s->ver)) {
				s->have_ver = true;
				if (s->ver.abi_major != GDL_ABI_MAJOR)
					problem(s, EXIT_UNHEALTHY, "ABI major version differs from this tool's: upgrade gpu-dma-lock-ctl or the module");
				else
					enforcement(g, s);
			} else {
				problem(s, EXIT_UNHEALTHY, "the device does not answer the VERSION ioctl: is it gpu_dma_lock's?");
			}
			gdlock_close(g);
		}
	}
	s->proc_present = !access(PROC_DIR, F_OK);
	s->proc_readable = !access(PROC_DIR "/version", R_OK);
	if (!s->proc_present || !s->proc_readable)
		problem(s, EXIT_UNHEALTHY, PROC_DIR " missing or unreadable");
}

static void collect(struct ctl *c, struct kmod_module *mod, struct mod_status *s)
{
	struct kmod_list *holders, *l;
	int st = kmod_module_get_initstate(mod);

	s->exit_code = EXIT_OK;
	read_file_info(mod, s);
	if (st < 0) {
		s->state = "absent";
		problem(s, EXIT_ABSENT, "module not loaded: run gpu-dma-lock-ctl load");
		return;
	}
	s->state = kmod_module_initstate_str(st);
	if (st == KMOD_MODULE_COMING || st == KMOD_MODULE_GOING)
		problem(s, EXIT_UNHEALTHY, "module is being loaded or unloaded: try again");
	read_line(SYS_MODULE "/version", s->version, sizeof(s->version));
	read_line(SYS_MODULE "/srcversion", s->srcversion, sizeof(s->srcversion));
	s->refcnt = kmod_module_get_refcnt(mod);
	holders = kmod_module_get_holders(mod);
	kmod_list_foreach(l, holders) {
		struct kmod_module *h = kmod_module_get_module(l);

		if (s->nr_holders < MAX_HOLDERS)
			snprintf(s->holders[s->nr_holders++], sizeof(s->holders[0]),
				 "%s", kmod_module_get_name(h));
		kmod_module_unref(h);
	}
	kmod_module_unref_list(holders);
	read_params(s);
	check_nodes(c, s);
	if (st == KMOD_MODULE_LIVE && s->path[0] && s->srcversion[0] &&
	    strcmp(s->srcversion, s->file_srcversion))
		problem(s, EXIT_STALE, "loaded module differs from the installed file: run gpu-dma-lock-ctl unload && gpu-dma-lock-ctl load");
}

static bool installed_matches(const struct mod_status *s)
{
	return s->path[0] && s->srcversion[0] &&
	       !strcmp(s->srcversion, s->file_srcversion);
}

static void print_json(const struct mod_status *s, const char *kver,
		       const char *dev_path)
{
	struct jw w;
	int i;

	jw_init(&w, stdout, true);
	jw_obj(&w, NULL);
	jw_str(&w, "module", GDL_MODULE_NAME);
	jw_str(&w, "kernel", kver);
	jw_str(&w, "state", s->state);
	jw_str(&w, "version", s->version[0] ? s->version : NULL);
	jw_str(&w, "srcversion", s->srcversion[0] ? s->srcversion : NULL);
	if (s->path[0]) {
		jw_obj(&w, "installed");
		jw_str(&w, "path", s->path);
		jw_str(&w, "version", s->file_version[0] ? s->file_version : NULL);
		jw_str(&w, "srcversion", s->file_srcversion[0] ? s->file_srcversion : NULL);
		jw_end(&w, '}');
	} else {
		jw_null(&w, "installed");
	}
	if (strcmp(s->state, "absent")) {
		jw_bool(&w, "matches_installed", installed_matches(s));
		jw_i64(&w, "refcount", s->refcnt);
		jw_arr(&w, "holders");
		for (i = 0; i < s->nr_holders; i++)
			jw_str(&w, NULL, s->holders[i]);
		jw_end(&w, ']');
		jw_obj(&w, "parameters");
		for (i = 0; i < s->nr_params; i++)
			jw_str(&w, s->params[i].name, s->params[i].value);
		jw_end(&w, '}');
		jw_obj(&w, "device");
		jw_str(&w, "path", dev_path);
		jw_bool(&w, "present", s->dev_present);
		jw_bool(&w, "accessible", s->dev_open);
		if (s->have_ver) {
			char abi[32];

			snprintf(abi, sizeof(abi), "%u.%u", s->ver.abi_major, s->ver.abi_minor);
			jw_str(&w, "abi", abi);
			jw_bool(&w, "enforce", s->ver.flags & GDL_VERSION_F_ENFORCE);
		}
		jw_end(&w, '}');
		jw_arr(&w, "enforcement");
		for (i = 0; i < s->nr_dev; i++) {
			jw_obj(&w, NULL);
			jw_str(&w, "device", s->dev[i].name);
			jw_str(&w, "enforcement", s->dev[i].region[0] ? "dmem" : "interposer");
			jw_str(&w, "dmem_region", s->dev[i].region[0] ? s->dev[i].region : NULL);
			jw_end(&w, '}');
		}
		jw_end(&w, ']');
		jw_obj(&w, "proc");
		jw_bool(&w, "present", s->proc_present);
		jw_bool(&w, "readable", s->proc_readable);
		jw_end(&w, '}');
	}
	jw_arr(&w, "problems");
	for (i = 0; i < s->nr_problems; i++)
		jw_str(&w, NULL, s->problems[i]);
	jw_end(&w, ']');
	jw_bool(&w, "healthy", s->exit_code == EXIT_OK);
	jw_u64(&w, "exit_code", s->exit_code);
	jw_end(&w, '}');
	jw_done(&w);
}

static void print_text(const struct mod_status *s, const char *kver,
		       const char *dev_path)
{
	int i;

	printf("module %s on %s: %s\n", GDL_MODULE_NAME, kver, s->state);
	if (strcmp(s->state, "absent")) {
		printf("  version      %s (srcversion %s)\n",
		       s->version[0] ? s->version : "-",
		       s->srcversion[0] ? s->srcversion : "-");
	}
	if (s->path[0])
		printf("  installed    %s\n               version %s, srcversion %s\n",
		       s->path, s->file_version[0] ? s->file_version : "-",
		       s->file_srcversion[0] ? s->file_srcversion : "-");
	else
		printf("  installed    no file for this kernel in modules.dep\n");
	if (!strcmp(s->state, "absent"))
		goto problems;
	if (!strcmp(s->state, "live")) {
		if (installed_matches(s))
			printf("  on disk      loaded module matches the installed file\n");
		else if (s->path[0])
			printf("  on disk      loaded module DIFFERS from the installed file\n");
		else
			printf("  on disk      loaded from a file that is not installed (insmod?)\n");
	}
	printf("  refcount     %ld\n  holders     ", s->refcnt);
	for (i = 0; i < s->nr_holders; i++)
		printf(" %s", s->holders[i]);
	printf("%s\n  parameters  ", s->nr_holders ? "" : " none");
	for (i = 0; i < s->nr_params; i++)
		printf(" %s=%s", s->params[i].name, s->params[i].value);
	printf("\n  %-12s %s", dev_path, s->dev_present ? "present" : "MISSING");
	if (s->dev_present)
		printf(" (mode %s), %s", s->dev_mode,
		       s->dev_open ? "accessible" : "NOT accessible to you");
	if (s->have_ver)
		printf(", ABI %u.%u, %s", s->ver.abi_major, s->ver.abi_minor,
		       s->ver.flags & GDL_VERSION_F_ENFORCE ? "enforcing" :
		       "AUDIT ONLY (enforce=0)");
	printf("\n  %-12s %s\n", PROC_DIR, !s->proc_present ? "MISSING" :
	       s->proc_readable ? "present, readable" : "present, NOT readable");
	for (i = 0; i < s->nr_dev; i++)
		printf("  %-12s %s %s%s\n", i ? "" : "enforcement", s->dev[i].name,
		       s->dev[i].region[0] ? "dmem (kernel), region " : "interposer",
		       s->dev[i].region);
problems:
	for (i = 0; i < s->nr_problems; i++)
		printf("problem: %s\n", s->problems[i]);
	printf("status: %s (exit %d)\n", s->exit_code == EXIT_OK ? "healthy" :
	       s->exit_code == EXIT_ABSENT ? "not loaded" :
	       s->exit_code == EXIT_STALE ? "stale" : "unhealthy", s->exit_code);
}

int cmd_status(struct ctl *c, int argc, char **argv)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	struct mod_status *s;
	struct utsname u;
	int ret;

	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl status [--json]\n\n"
		       "Whether gpu_dma_lock is loaded (live, builtin, coming, going, absent),\n"
		       "its version and srcversion against the file installed for this kernel,\n"
		       "refcount, holders, parameters, and whether the device node and /proc\n"
		       "are present and accessible.  Exit 0 only when loaded and healthy;\n"
		       "3 not loaded, 4 not accessible, 5 unhealthy, 6 differs from disk.\n");
		return EXIT_OK;
	}
	if (argc > 1)
		return ctl_usage_err("status", "unexpected argument '%s'", argv[1]);
	ctx = ctl_kmod();
	if (!ctx)
		return EXIT_FAIL;
	ret = kmod_module_new_from_name(ctx, GDL_MODULE_NAME, &mod);
	s = calloc(1, sizeof(*s));
	if (ret < 0 || !s) {
		fprintf(stderr, "libkmod: %s\n", strerror(ret < 0 ? -ret : ENOMEM));
		free(s);
		kmod_unref(ctx);
		return EXIT_FAIL;
	}
	collect(c, mod, s);
	uname(&u);
	if (c->json)
		print_json(s, u.release, c->dev_path);
	else
		print_text(s, u.release, c->dev_path);
	ret = s->exit_code;
	free(s);
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

static int load_error(int err, const char *kver)
{
	switch (-err) {
	case ENOENT:
		fprintf(stderr, "load: gpu_dma_lock is not installed for kernel %s: install gpu-dma-lock-dkms (or 'make install'), then run depmod\n",
			kver);
		return EXIT_ABSENT;
	case EPERM:
		fprintf(stderr, "load: needs root (CAP_SYS_MODULE)\n");
		return EXIT_PERM;
	case EINVAL:
		fprintf(stderr, "load: the module refused its parameters: 'dmesg | grep gpu_dma_lock' names the bad one\n");
		return EXIT_USAGE;
	case EKEYREJECTED:
	case ENOKEY:
		fprintf(stderr, "load: Secure Boot rejected the module's signature: enroll the DKMS key (mokutil --import /var/lib/dkms/mok.pub) and reboot\n");
		return EXIT_FAIL;
	case ENOEXEC:
		fprintf(stderr, "load: the installed module was built for another kernel: rebuild it (dkms autoinstall)\n");
		return EXIT_FAIL;
	default:
		fprintf(stderr, "load: %s\n", strerror(-err));
		return EXIT_FAIL;
	}
}

int cmd_load(struct ctl *c, int argc, char **argv)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	struct utsname u;
	char opts[1024] = "";
	size_t used = 0;
	int i, ret;

	(void)c;
	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl load [NAME=VALUE...]\n\n"
		       "Load gpu_dma_lock through libkmod, as modprobe would: options from\n"
		       "modprobe.d apply first, NAME=VALUE arguments after them (so they win).\n"
		       "Already loaded: exit 0 without arguments, 1 with (parameters only\n"
		       "apply at load: unload first).\n");
		return EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i] || strchr(argv[i], ' '))
			return ctl_usage_err("load", "'%s' is not NAME=VALUE", argv[i]);
		ret = snprintf(opts + used, sizeof(opts) - used, "%s%s",
			       used ? " " : "", argv[i]);
		if (ret < 0 || (size_t)ret >= sizeof(opts) - used)
			return ctl_usage_err("load", "options too long");
		used += ret;
	}
	uname(&u);
	ctx = ctl_kmod();
	if (!ctx)
		return EXIT_FAIL;
	ret = kmod_module_new_from_name(ctx, GDL_MODULE_NAME, &mod);
	if (ret < 0) {
		kmod_unref(ctx);
		return load_error(ret, u.release);
	}
	ret = kmod_module_probe_insert_module(mod, KMOD_PROBE_FAIL_ON_LOADED,
					      used ? opts : NULL, NULL, NULL, NULL);
	if (ret == -EEXIST) {
		printf("gpu_dma_lock is already loaded%s\n", used ?
		       "; parameters only apply at load: run gpu-dma-lock-ctl unload first" : "");
		ret = used ? EXIT_FAIL : EXIT_OK;
	} else if (ret < 0) {
		ret = load_error(ret, u.release);
	} else if (ret > 0) {
		/* A positive value: blacklist or install-command outcome. */
		fprintf(stderr, "load: not loaded: modprobe.d blacklists it or runs a command instead\n");
		ret = EXIT_FAIL;
	} else {
		const char *conf = kmod_module_get_options(mod);

		printf("loaded gpu_dma_lock from %s\n", kmod_module_get_path(mod));
		printf("  options from modprobe.d: %s\n", conf && *conf ? conf : "(none)");
		printf("  options given here:      %s\n", used ? opts : "(none)");
		ret = EXIT_OK;
	}
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

int cmd_unload(struct ctl *c, int argc, char **argv)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int ret;

	(void)c;
	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl unload\n\n"
		       "Unload gpu_dma_lock.  Refused while a process holds the device open\n"
		       "(its reservations would otherwise vanish under it).\n");
		return EXIT_OK;
	}
	if (argc > 1)
		return ctl_usage_err("unload", "unexpected argument '%s'", argv[1]);
	ctx = ctl_kmod();
	if (!ctx)
		return EXIT_FAIL;
	ret = kmod_module_new_from_name(ctx, GDL_MODULE_NAME, &mod);
	if (ret >= 0 && kmod_module_get_initstate(mod) < 0)
		ret = -ENOENT;
	else if (ret >= 0)
		ret = kmod_module_remove_module(mod, 0);
	switch (-ret) {
	case 0:
		printf("unloaded gpu_dma_lock\n");
		ret = EXIT_OK;
		break;
	case ENOENT:
		fprintf(stderr, "unload: gpu_dma_lock is not loaded\n");
		ret = EXIT_ABSENT;
		break;
	case EPERM:
		fprintf(stderr, "unload: needs root (CAP_SYS_MODULE)\n");
		ret = EXIT_PERM;
		break;
	case EBUSY:
	case EAGAIN:
		fprintf(stderr, "unload: in use (refcount %d): close the programs holding %s open (fuser -v %s)\n",
			kmod_module_get_refcnt(mod), GDL_DEVICE_PATH, GDL_DEVICE_PATH);
		ret = EXIT_FAIL;
		break;
	default:
		fprintf(stderr, "unload: %s\n", strerror(-ret));
		ret = EXIT_FAIL;
	}
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}
