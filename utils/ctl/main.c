// SPDX-License-Identifier: GPL-2.0
/*
 * gpu-dma-lock-ctl: load state, self-test, management, metrics and events
 * for the gpu_dma_lock module.  This file parses the global options and
 * dispatches to the subcommands; gpu-dma-lock-ctl(8) documents them all.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static const struct ctl_cmd commands[] = {
	{ "status", cmd_status, "status [--json]          is the module loaded, installed, healthy" },
	{ "selftest", cmd_selftest, "selftest                 end-to-end check against the live module" },
	{ "load", cmd_load, "load [NAME=VALUE...]     load the module (modprobe.d options apply)" },
	{ "unload", cmd_unload, "unload                   unload the module" },
	{ "device", cmd_device, "device list|add|set|remove ...   managed GPUs and their capacity" },
	{ "agent", cmd_agent, "agent create|destroy|list|bind|unbind ...   tenants and their bindings" },
	{ "quota", cmd_quota, "quota set|get ...        per-agent, per-device quotas" },
	{ "acl", cmd_acl, "acl grant|revoke|list ...   DMA access-control entries" },
	{ "reserve", cmd_reserve, "reserve DEV SIZE... [--hold]   reserve memory as this process's agent" },
	{ "stats", cmd_stats, "stats [--json|--prometheus]   usage, quotas and counters" },
	{ "dmem", cmd_dmem, "dmem status|sync [--follow]   the ledger's quotas as dmem cgroup limits" },
	{ "watch", cmd_watch, "watch [--json] [--count N] [--timeout S]   stream events" },
	{ "apply", cmd_apply, "apply FILE [--dry-run]   make the ledger match a policy file" },
	{ "holders", cmd_holders, "holders [--agent AGENT] [--kill]   who holds memory; end an agent's charge" },
	{ "gc", cmd_gc, "gc [--dry-run]           destroy container/job agents nothing uses" },
	{ "cdi", cmd_cdi, "cdi generate [...]       write the CDI spec for containers" },
	{ NULL, NULL, NULL }
};

void ctl_print_usage(FILE *f, const char *group, const struct ctl_cmd *cmds)
{
	const struct ctl_cmd *k;

	fprintf(f, "usage: gpu-dma-lock-ctl [--device PATH] [--json] %s%sCOMMAND [ARGS]\n\n",
		group ? group : "", group ? " " : "");
	for (k = cmds; k->name; k++)
		fprintf(f, "  %s%s%s\n", group ? group : "", group ? " " : "",
			k->usage);
	fprintf(f, "\n'gpu-dma-lock-ctl %s%sCOMMAND --help' for details; exit codes: see gpu-dma-lock-ctl(8).\n",
		group ? group : "", group ? " " : "");
}

bool ctl_want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

int ctl_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gpu-dma-lock-ctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'gpu-dma-lock-ctl %s --help')\n", cmd);
	return EXIT_USAGE;
}

int ctl_err(int err, const char *what)
{
	if (err < 0)
		err = -err;
	if (err == EPERM && geteuid() != 0) {
		fprintf(stderr, "%s: needs root (CAP_SYS_ADMIN)\n", what);
		return EXIT_PERM;
	}
	fprintf(stderr, "%s: %s\n", what, gdlock_strerror(err));
	if (err == ENOTTY)
		return EXIT_UNHEALTHY;
	return EXIT_FAIL;
}

static bool module_loaded(void)
{
	return access("/sys/module/" GDL_MODULE_NAME, F_OK) == 0;
}

int ctl_open(struct ctl *c, struct gdlock **g)
{
	int ret = gdlock_open_path(c->dev_path, g);

	if (!ret)
		return 0;
	switch (-ret) {
	case ENOENT:
		if (!module_loaded()) {
			fprintf(stderr, "module not loaded: run gpu-dma-lock-ctl load\n");
			return EXIT_ABSENT;
		}
		fprintf(stderr, "%s is missing although the module is loaded: is udev running? (udevadm trigger --subsystem-match=misc)\n",
			c->dev_path);
		return EXIT_UNHEALTHY;
	case EACCES:
	case EPERM:
		fprintf(stderr, "cannot open %s: permission denied: needs root, or a udev rule granting your group access\n",
			c->dev_path);
		return EXIT_PERM;
	default:
		fprintf(stderr, "cannot open %s: %s\n", c->dev_path,
			strerror(-ret));
		return EXIT_FAIL;
	}
}

int ctl_subcommand(struct ctl *c, const char *group,
		   const struct ctl_cmd *cmds, int argc, char **argv)
{
	const struct ctl_cmd *k;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		ctl_print_usage(argc < 2 ? stderr : stdout, group, cmds);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (k = cmds; k->name; k++)
		if (!strcmp(k->name, argv[1]))
			return k->fn(c, argc - 1, argv + 1);
	fprintf(stderr, "gpu-dma-lock-ctl %s: unknown command '%s'\n", group,
		argv[1]);
	ctl_print_usage(stderr, group, cmds);
	return EXIT_USAGE;
}

/*
 * --json is accepted anywhere after the command too ("stats --json"), so
 * it is taken out here once rather than by every subcommand's parser.
 */
static int strip_json(struct ctl *c, int argc, char **argv)
{
	int i, j;

	for (i = j = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			c->json = true;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	return j;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl c = { .dev_path = GDL_DEVICE_PATH };
	const struct ctl_cmd *k;
	int opt;

	/* '+': stop at the command; its options are its own. */
	while ((opt = getopt_long(argc, argv, "+d:jhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			c.dev_path = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			ctl_print_usage(stdout, NULL, commands);
			return EXIT_OK;
		case 'V':
			printf("gpu-dma-lock-ctl %s (ABI %d.%d)\n", GDL_CTL_VERSION,
			       GDL_ABI_MAJOR, GDL_ABI_MINOR);
			return EXIT_OK;
		default:
			ctl_print_usage(stderr, NULL, commands);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		ctl_print_usage(stderr, NULL, commands);
		return EXIT_USAGE;
	}
	argc = strip_json(&c, argc, argv);
	for (k = commands; k->name; k++) {
		if (!strcmp(k->name, argv[0])) {
			int ret;

			/* Each command parses from argv[1] with a fresh getopt. */
			optind = 0;
			ret = k->fn(&c, argc, argv);
			/* Even after a failure: apply may have done half. */
			if (ctl_dmem_changes(argc, argv))
				ctl_dmem_after(&c);
			return ret;
		}
	}
	fprintf(stderr, "gpu-dma-lock-ctl: unknown command '%s'\n", argv[0]);
	ctl_print_usage(stderr, NULL, commands);
	return EXIT_USAGE;
}
