// SPDX-License-Identifier: GPL-2.0
/*
 * dmem: the ledger's quotas as the kernel's dmem cgroup limits
 * (docs/dmem.md; the sync itself is utils/lib/dmem.c, which the
 * lifecycle helper runs too).
 *
 *   dmem status           each device: its region, or why the interposer
 *   dmem sync             program every bound cgroup's dmem.max once
 *   dmem sync --follow    and again on every ledger event, and at least
 *                         every half second: a quota set has no event, and
 *                         whoever changed it without the lifecycle helper
 *                         (a raw ioctl, quota set) must see the kernel
 *                         follow within a second.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dmem.h"
#include "json.h"

/* Half the promised bound: a change made just after a sync waits one. */
#define DMEM_FOLLOW_MS	500

static void report_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

/*
 * The follower's failures, kept until its sync is over: a cgroup that
 * cannot take dmem (it has processes of its own) fails every half
 * second, and is said once, and again only when what fails changes.
 */
struct fails {
	char text[4096];
	size_t len;
};

static void keep_line(void *arg, const char *line)
{
	struct fails *f = arg;
	int n = snprintf(f->text + f->len, sizeof(f->text) - f->len, "%s\n", line);

	if (n > 0)
		f->len = f->len + n < sizeof(f->text) ? f->len + n : sizeof(f->text) - 1;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int dmem_sync(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct gdlu_dmem_sync_stats st;
	static struct fails now, last;
	struct gdl_event ev[16];
	bool follow = false;
	struct gdlock *g;
	int opt, ret, n;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			follow = true;
			break;
		case 'h':
			printf("usage: gpu-dma-lock-ctl dmem sync [--follow]\n\n"
			       "Write each bound agent's quota on every device with a dmem\n"
			       "region into its cgroups' dmem.max; give back to max what the\n"
			       "ledger no longer wants.  --follow: again on every event and\n"
			       "every %d ms, until SIGTERM.\n", DMEM_FOLLOW_MS);
			return EXIT_OK;
		default:
			return ctl_usage_err("dmem sync", "unknown option");
		}
	}
	if (optind < argc)
		return ctl_usage_err("dmem sync", "unexpected argument '%s'", argv[optind]);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = gdlu_dmem_sync(g, keep_line, &last, &st);
	fputs(last.text, stderr);
	if (ret) {
		ret = ctl_err(ret, "dmem sync");
		goto out;
	}
	printf("dmem sync: %u lines wanted, %u written, %u back to max, %u failed\n",
	       st.lines, st.written, st.reset, st.failed);
	fflush(stdout);
	if (!follow) {
		ret = st.failed ? EXIT_FAIL : EXIT_OK;
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop) {
		/* Events only wake us early; every wake-up syncs in full. */
		n = gdlock_event_read(g, ev, 16, DMEM_FOLLOW_MS);
		if (n < 0 && n != -EINTR) {
			ret = ctl_err(n, "dmem sync --follow");
			goto out;
		}
		now.len = 0;
		now.text[0] = '\0';
		ret = gdlu_dmem_sync(g, keep_line, &now, &st);
		if (strcmp(now.text, last.text)) {
			fputs(now.text, stderr);
			last = now;
		}
		if (ret) {
			/* The ledger went (module unloaded): say so, stop. */
			ret = ctl_err(ret, "dmem sync --follow");
			goto out;
		}
		if (st.written || st.reset) {
			printf("dmem sync: %u written, %u back to max, %u failed\n",
			       st.written, st.reset, st.failed);
			fflush(stdout);
		}
	}
	ret = EXIT_OK;
out:
	gdlock_close(g);
	return ret;
}

static int dmem_status(struct ctl *c, int argc, char **argv)
{
	struct gdl_device_info *d = NULL;
	struct gdlu_dmem_dev *m = NULL;
	struct gdlock *g;
	char pci[32];
	int n, i, ret;

	if (argc > 1)
		return ctl_usage_err("dmem status", "unexpected argument '%s'", argv[1]);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	n = ctl_devices(g, &d);
	if (n < 0) {
		ret = ctl_err(n, "dmem status");
		goto out;
	}
	m = calloc((size_t)n + 1, sizeof(*m));
	if (!m) {
		ret = ctl_err(-ENOMEM, "dmem status");
		goto out;
	}
	gdlu_dmem_map(d, n, m);
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout, true);
		jw_arr(&w, NULL);
		for (i = 0; i < n; i++) {
			gdlu_fmt_pci_addr(d[i].pci_domain, d[i].pci_bdf, pci, sizeof(pci));
			jw_obj(&w, NULL);
			jw_u64(&w, "index", d[i].index);
			jw_str(&w, "name", d[i].name);
			jw_str(&w, "pci", pci);
			jw_str(&w, "enforcement", m[i].region[0] ? "dmem" : "interposer");
			jw_str(&w, "region", m[i].region[0] ? m[i].region : NULL);
			jw_str(&w, "why", m[i].why);
			jw_end(&w, '}');
		}
		jw_end(&w, ']');
		jw_done(&w);
	} else {
		printf("%-5s %-16s %-13s %-11s %s\n", "INDEX", "NAME", "PCI",
		       "ENFORCEMENT", "REGION (OR WHY NOT)");
		for (i = 0; i < n; i++) {
			gdlu_fmt_pci_addr(d[i].pci_domain, d[i].pci_bdf, pci, sizeof(pci));
			printf("%-5u %-16s %-13s %-11s %s\n", d[i].index, d[i].name,
			       pci, m[i].region[0] ? "dmem" : "interposer",
			       m[i].region[0] ? m[i].region : m[i].why);
		}
	}
	ret = EXIT_OK;
out:
	free(d);
	free(m);
	gdlock_close(g);
	return ret;
}

bool ctl_dmem_changes(int argc, char **argv)
{
	static const char *const read_only[] = { "list", "get", "-h", "--help", NULL };
	int i;

	if (!strcmp(argv[0], "apply") || !strcmp(argv[0], "gc"))
		return true;
	if (strcmp(argv[0], "agent") && strcmp(argv[0], "quota") &&
	    strcmp(argv[0], "device"))
		return false;
	if (argc < 2)
		return false;
	for (i = 0; read_only[i]; i++)
		if (!strcmp(argv[1], read_only[i]))
			return false;
	return true;
}

void ctl_dmem_after(struct ctl *c)
{
	struct gdlock *g;

	/* The command said why the device cannot be opened, if it cannot. */
	if (gdlock_open_path(c->dev_path, &g))
		return;
	gdlu_dmem_sync(g, report_line, NULL, NULL);
	gdlock_close(g);
}

int cmd_dmem(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_cmd cmds[] = {
		{ "status", dmem_status, "status [--json]" },
		{ "sync", dmem_sync, "sync [--follow]" },
		{ NULL, NULL, NULL }
	};

	return ctl_subcommand(c, "dmem", cmds, argc, argv);
}
