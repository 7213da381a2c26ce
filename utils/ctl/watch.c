// SPDX-License-Identifier: GPL-2.0
/*
 * watch: the module's events as they happen, one line each (or one JSON
 * object per line).  Events are those made after the device was opened;
 * admins see every agent's, others their own.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "json.h"

/* Agent names for ids; refreshed when an unknown id shows up. */
struct names {
	struct gdl_agent_info *a;
	int n;
};

static const char *agent_name(struct gdlock *g, struct names *nm, uint32_t id)
{
	int i, pass;

	if (!id)
		return NULL;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < nm->n; i++)
			if (nm->a[i].id == id)
				return nm->a[i].name;
		if (pass)
			break;
		free(nm->a);
		nm->n = ctl_agents(g, &nm->a);
		if (nm->n < 0)
			nm->n = 0;
	}
	return NULL;	/* destroyed before we looked */
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_event(const struct gdl_event *e, const char *name, bool json)
{
	char b1[24], b2[24], r[4];
	struct ctl_labels l;

	if (json) {
		struct jw w;

		jw_init(&w, stdout, false);
		jw_obj(&w, NULL);
		jw_u64(&w, "seq", e->seq);
		jw_u64(&w, "time_ns", e->time_ns);
		jw_str(&w, "type", gdlock_event_type_name(e->type));
		jw_bool(&w, "audit", e->flags & GDL_EVENT_F_AUDIT);
		jw_u64(&w, "agent_id", e->agent_id);
		jw_str(&w, "agent", name);
		if (name && ctl_labels(name, &l)) {
			jw_str(&w, "namespace", l.ns);
			jw_str(&w, "pod", l.pod);
			jw_str(&w, "container", l.ctr);
		}
		jw_u64(&w, "device", e->dev_index);
		jw_i64(&w, "pid", e->pid);
		jw_str(&w, "access", ctl_rights_str(e->access, r));
		jw_u64(&w, "value", e->value);
		jw_u64(&w, "value2", e->value2);
		jw_end(&w, '}');
		jw_done(&w);
		return;
	}
	printf("[%5llu.%06llu] #%llu %s%s",
	       (unsigned long long)(e->time_ns / 1000000000ULL),
	       (unsigned long long)(e->time_ns % 1000000000ULL / 1000),
	       (unsigned long long)e->seq, gdlock_event_type_name(e->type),
	       e->flags & GDL_EVENT_F_AUDIT ? " (audit: allowed)" : "");
	/* A device's events concern no agent. */
	if (e->agent_id)
		printf(" agent=%s(%u)", name ? name : "?", e->agent_id);
	/* A pod's container: its Kubernetes names. */
	if (name && ctl_labels(name, &l))
		printf(" pod=%s/%s/%s", l.ns, l.pod, l.ctr);
	switch (e->type) {
	case GDL_EVENT_QUOTA_EXCEEDED:
	case GDL_EVENT_CAPACITY_EXCEEDED:
		printf(" device=%u pid=%d size=%s %s=%s", e->dev_index, e->pid,
		       gdlu_fmt_size(e->value, b1, sizeof(b1)),
		       e->type == GDL_EVENT_QUOTA_EXCEEDED ? "quota" : "capacity",
		       gdlu_fmt_size(e->value2, b2, sizeof(b2)));
		break;
	case GDL_EVENT_DMA_DENIED:
		printf(" device=%u pid=%d access=%s addr=0x%llx len=%s",
		       e->dev_index, e->pid, ctl_rights_str(e->access, r),
		       (unsigned long long)e->value,
		       gdlu_fmt_size(e->value2, b1, sizeof(b1)));
		break;
	case GDL_EVENT_DEVICE_GONE:
		printf(" device=%u pid=%d (left the PCI bus: reservations stay until released)",
		       e->dev_index, e->pid);
		break;
	case GDL_EVENT_DEVICE_BACK:
		printf(" device=%u pid=%d (back on the PCI bus, its policy kept)",
		       e->dev_index, e->pid);
		break;
	case GDL_EVENT_LOST:
		printf(" missed=%llu (the reader fell behind)",
		       (unsigned long long)e->value);
		break;
	}
	printf("\n");
	fflush(stdout);
}

int cmd_watch(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct names nm = { NULL, 0 };
	struct gdl_event ev[16];
	uint32_t count = 0, timeout = 0;
	uint64_t seen = 0;
	struct gdlock *g;
	int64_t start;
	int opt, ret, left;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "n:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (gdlu_parse_u32(optarg, &count) || !count)
				return ctl_usage_err("watch", "--count takes a positive number");
			break;
		case 't':
			if (gdlu_parse_u32(optarg, &timeout) || !timeout || timeout > 86400)
				return ctl_usage_err("watch", "--timeout takes seconds, 1 to 86400");
			break;
		case 'h':
			printf("usage: gpu-dma-lock-ctl watch [--json] [--count N] [--timeout SECONDS]\n\n"
			       "Print events (quota_exceeded, capacity_exceeded, dma_denied,\n"
			       "agent_destroyed, lost; for an admin, device_gone and device_back)\n"
			       "as they happen.  --count: exit 0 after N; --timeout: exit 1 if\n"
			       "they have not come by then.\n");
			return EXIT_OK;
		default:
			return ctl_usage_err("watch", "unknown option");
		}
	}
	if (optind < argc)
		return ctl_usage_err("watch", "unexpected argument '%s'", argv[optind]);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	/* Known now, so an agent_destroyed event can still be named. */
	nm.n = ctl_agents(g, &nm.a);
	if (nm.n < 0)
		nm.n = 0;
	/* Readers that script against us wait for this line. */
	if (!c->json)
		printf("watching %s for events%s\n", c->dev_path,
		       count ? "" : " (Ctrl-C to stop)");
	fflush(stdout);
	start = now_ms();
	for (;;) {
		int n, i;

		left = -1;
		if (timeout) {
			left = (int)((int64_t)timeout * 1000 - (now_ms() - start));
			if (left <= 0)
				break;
		}
		n = gdlock_event_read(g, ev, count && count - seen < 16 ?
				      (unsigned int)(count - seen) : 16, left);
		if (n < 0) {
			ret = ctl_err(n, "watch");
			goto out;
		}
		for (i = 0; i < n; i++)
			print_event(&ev[i], agent_name(g, &nm, ev[i].agent_id), c->json);
		seen += n;
		if (count && seen >= count) {
			ret = EXIT_OK;
			goto out;
		}
	}
	fprintf(stderr, "watch: %llu of %u events within %us\n",
		(unsigned long long)seen, count, timeout);
	ret = count ? EXIT_FAIL : EXIT_OK;
out:
	free(nm.a);
	gdlock_close(g);
	return ret;
}
