// SPDX-License-Identifier: GPL-2.0
/*
 * stats: one snapshot of the ledger (devices, every agent's account on
 * every device, the module's counters) printed as a table, as JSON
 * (docs/stats.schema.json) or in the Prometheus text exposition format for
 * node_exporter's textfile collector.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "dmem.h"
#include "json.h"
#include "gdl_stat_names.h"

/* The names the module's /proc file uses (src/gdl_stat_names.h). */
static const char *const stat_name[GDL_STAT_NR] = GDL_STAT_NAMES_INIT;

/* enum gdl_stat order; monotonic counters first, then live gauges. */
static const struct {
	bool counter;
	const char *help;
} stat_info[GDL_STAT_NR] = {
	{ true, "ioctl calls" },
	{ true, "reservations granted" },
	{ true, "reservations refused by a quota" },
	{ true, "reservations refused by a device's capacity" },
	{ true, "reservations released" },
	{ true, "DMA checks allowed" },
	{ true, "DMA checks denied" },
	{ true, "refusals waived by audit mode (enforce=0)" },
	{ true, "requests from callers bound to no agent" },
	{ false, "agents now" },
	{ false, "reservations now" },
	{ false, "ACL entries now" },
	{ false, "open files of the device now" },
	{ false, "managed devices now" },
	{ false, "1 when every usage equals the sum of its reservations" },
};

struct snapshot {
	struct gdl_version ver;
	struct gdl_stats st;
	struct gdl_device_info *dev;
	int nr_dev;
	struct gdl_agent_info *agent;
	int nr_agent;
	struct gdl_quota *q;	/* nr_agent x nr_dev */
	struct gdlu_dmem_dev *map;	/* per device: dmem region or none */
	/*
	 * nr_agent x nr_dev: dmem.current of the agent's cgroups on the
	 * device's region; NO_DMEM where there is none to read.  Above the
	 * ledger's usage, it is memory the interposer never saw.
	 */
	uint64_t *dcur;
};

#define NO_DMEM	UINT64_MAX

/* What dmem charged beyond the ledger's figure; 0 when nothing is. */
static uint64_t escaped(const struct snapshot *s, int a, int d)
{
	uint64_t cur = s->dcur[a * s->nr_dev + d];
	uint64_t used = s->q[a * s->nr_dev + d].usage;

	return cur != NO_DMEM && cur > used ? cur - used : 0;
}

static void snapshot_free(struct snapshot *s)
{
	free(s->dev);
	free(s->agent);
	free(s->q);
	free(s->map);
	free(s->dcur);
}

static int snapshot_take(struct gdlock *g, struct snapshot *s)
{
	int ret, a, d;

	memset(s, 0, sizeof(*s));
	ret = gdlock_version(g, &s->ver);
	if (!ret)
		ret = gdlock_stats(g, &s->st);
	if (ret)
		return ret;
	s->nr_dev = ctl_devices(g, &s->dev);
	if (s->nr_dev < 0)
		return s->nr_dev;
	s->nr_agent = ctl_agents(g, &s->agent);
	if (s->nr_agent < 0)
		return s->nr_agent;
	s->q = calloc((size_t)s->nr_agent * s->nr_dev + 1, sizeof(*s->q));
	s->dcur = calloc((size_t)s->nr_agent * s->nr_dev + 1, sizeof(*s->dcur));
	s->map = calloc((size_t)s->nr_dev + 1, sizeof(*s->map));
	if (!s->q || !s->dcur || !s->map)
		return -ENOMEM;
	gdlu_dmem_map(s->dev, s->nr_dev, s->map);
	for (a = 0; a < s->nr_agent; a++) {
		for (d = 0; d < s->nr_dev; d++) {
			uint64_t *cur = &s->dcur[a * s->nr_dev + d];

			ret = gdlock_quota_get(g, s->agent[a].id, s->dev[d].index,
					       &s->q[a * s->nr_dev + d]);
			/* Destroyed meanwhile: report it as empty. */
			if (ret && ret != -ENOENT)
				return ret;
			if (!s->map[d].region[0] ||
			    gdlu_dmem_agent_current(g, s->agent[a].id,
						    s->map[d].region, cur))
				*cur = NO_DMEM;
		}
	}
	return 0;
}

static unsigned int nr_stats(const struct snapshot *s)
{
	return s->st.nr_counters < GDL_STAT_NR ? s->st.nr_counters : GDL_STAT_NR;
}

static void print_json(const struct snapshot *s)
{
	char abi[16], pci[32];
	struct ctl_labels l;
	struct jw w;
	unsigned int i;
	int a, d;

	snprintf(abi, sizeof(abi), "%u.%u", s->ver.abi_major, s->ver.abi_minor);
	jw_init(&w, stdout, true);
	jw_obj(&w, NULL);
	jw_str(&w, "module_version", s->ver.module_version);
	jw_str(&w, "abi", abi);
	jw_bool(&w, "enforce", s->ver.flags & GDL_VERSION_F_ENFORCE);
	jw_str(&w, "default_policy", s->ver.flags & GDL_VERSION_F_DEFAULT_ALLOW ?
	       "default" : "deny");
	jw_obj(&w, "counters");
	for (i = 0; i < nr_stats(s); i++)
		jw_u64(&w, stat_name[i], s->st.counters[i]);
	jw_end(&w, '}');
	jw_arr(&w, "devices");
	for (d = 0; d < s->nr_dev; d++) {
		const struct gdl_device_info *v = &s->dev[d];

		jw_obj(&w, NULL);
		jw_u64(&w, "index", v->index);
		jw_str(&w, "name", v->name);
		if (v->flags & GDL_DEV_F_PCI) {
			gdlu_fmt_pci_addr(v->pci_domain, v->pci_bdf, pci, sizeof(pci));
			jw_str(&w, "pci", pci);
		} else {
			jw_null(&w, "pci");
		}
		jw_size(&w, "capacity", v->capacity);
		jw_u64(&w, "used", v->used);
		jw_u64(&w, "peak", v->peak);
		jw_u64(&w, "reservations", v->nr_reservations);
		jw_str(&w, "state", v->flags & GDL_DEV_F_GONE ? "gone" : "live");
		jw_str(&w, "enforcement", s->map[d].region[0] ? "dmem" : "interposer");
		jw_str(&w, "dmem_region", s->map[d].region[0] ? s->map[d].region : NULL);
		jw_end(&w, '}');
	}
	jw_end(&w, ']');
	jw_arr(&w, "agents");
	for (a = 0; a < s->nr_agent; a++) {
		jw_obj(&w, NULL);
		jw_u64(&w, "id", s->agent[a].id);
		jw_str(&w, "name", s->agent[a].name);
		if (ctl_labels(s->agent[a].name, &l)) {
			jw_str(&w, "namespace", l.ns);
			jw_str(&w, "pod", l.pod);
			jw_str(&w, "container", l.ctr);
		}
		jw_bool(&w, "default", s->agent[a].flags & GDL_AGENT_F_DEFAULT);
		jw_u64(&w, "bindings", s->agent[a].nr_bindings);
		jw_arr(&w, "devices");
		for (d = 0; d < s->nr_dev; d++) {
			const struct gdl_quota *q = &s->q[a * s->nr_dev + d];

			jw_obj(&w, NULL);
			jw_u64(&w, "device", s->dev[d].index);
			jw_size(&w, "quota", q->quota);
			jw_u64(&w, "usage", q->usage);
			jw_u64(&w, "peak", q->peak);
			jw_u64(&w, "reservations", q->nr_reservations);
			jw_u64(&w, "denied", q->denied);
			jw_bool(&w, "over", q->flags & GDL_QUOTA_F_OVER);
			if (s->dcur[a * s->nr_dev + d] == NO_DMEM) {
				jw_null(&w, "dmem_current");
				jw_null(&w, "dmem_unledgered");
			} else {
				jw_u64(&w, "dmem_current", s->dcur[a * s->nr_dev + d]);
				jw_u64(&w, "dmem_unledgered", escaped(s, a, d));
			}
			jw_end(&w, '}');
		}
		jw_end(&w, ']');
		jw_end(&w, '}');
	}
	jw_end(&w, ']');
	jw_end(&w, '}');
	jw_done(&w);
}

/* Label values escape backslash, double quote and newline. */
static void prom_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else
			putchar(*s);
	}
}

static void prom_head(const char *name, const char *type, const char *help)
{
	printf("# HELP gpu_dma_lock_%s %s\n# TYPE gpu_dma_lock_%s %s\n", name,
	       help, name, type);
}

/* Unlimited capacity or quota is +Inf: the number a limit compares to. */
static void prom_value(uint64_t v, bool limit)
{
	if (limit && v == GDL_QUOTA_UNLIMITED)
		printf(" +Inf\n");
	else
		printf(" %llu\n", (unsigned long long)v);
}

enum { A_QUOTA, A_USAGE, A_PEAK, A_RESV, A_DENIED, A_NR };

static uint64_t agent_field(const struct gdl_quota *q, int f)
{
	switch (f) {
	case A_QUOTA: return q->quota;
	case A_USAGE: return q->usage;
	case A_PEAK: return q->peak;
	case A_RESV: return q->nr_reservations;
	default: return q->denied;
	}
}

enum { D_CAPACITY, D_USED, D_PEAK, D_RESV, D_GONE, D_NR };

static uint64_t dev_field(const struct gdl_device_info *v, int f)
{
	switch (f) {
	case D_CAPACITY: return v->capacity;
	case D_USED: return v->used;
	case D_PEAK: return v->peak;
	case D_RESV: return v->nr_reservations;
	default: return !!(v->flags & GDL_DEV_F_GONE);
	}
}

/* A dmem gauge per agent and device with a region (docs/dmem.md). */
static void prom_dmem(const struct snapshot *s, const char *name,
		      const char *help, bool unledgered)
{
	int a, d;

	prom_head(name, "gauge", help);
	for (a = 0; a < s->nr_agent; a++) {
		for (d = 0; d < s->nr_dev; d++) {
			if (s->dcur[a * s->nr_dev + d] == NO_DMEM)
				continue;
			printf("gpu_dma_lock_%s{agent=\"", name);
			prom_label(s->agent[a].name);
			printf("\",device=\"%u\"}", s->dev[d].index);
			prom_value(unledgered ? escaped(s, a, d) :
				   s->dcur[a * s->nr_dev + d], false);
		}
	}
}

static void print_prometheus(const struct snapshot *s)
{
	static const struct {
		const char *name, *type, *help;
	} af[A_NR] = {
		{ "agent_quota_bytes", "gauge", "Quota of the agent on the device (+Inf: unlimited)." },
		{ "agent_usage_bytes", "gauge", "Bytes the agent has reserved on the device." },
		{ "agent_peak_bytes", "gauge", "Highest usage of the agent on the device." },
		{ "agent_reservations", "gauge", "Live reservations of the agent on the device." },
		{ "agent_denials_total", "counter", "Reservations of the agent refused on the device." },
	}, df[D_NR] = {
		{ "device_capacity_bytes", "gauge", "Capacity of the device (+Inf: not set)." },
		{ "device_used_bytes", "gauge", "Bytes reserved on the device, all agents." },
		{ "device_peak_bytes", "gauge", "Highest use of the device." },
		{ "device_reservations", "gauge", "Live reservations on the device." },
		{ "device_gone", "gauge", "1 when the device left the PCI bus (its reservations stay until released), else 0." },
	};
	struct ctl_labels l;
	char name[64];
	unsigned int i;
	int a, d, f;

	prom_head("info", "gauge", "Module version and ABI; always 1.");
	printf("gpu_dma_lock_info{version=\"");
	prom_label(s->ver.module_version);
	printf("\",abi=\"%u.%u\"} 1\n", s->ver.abi_major, s->ver.abi_minor);
	prom_head("enforce", "gauge", "1 when enforcing, 0 in audit mode.");
	printf("gpu_dma_lock_enforce %d\n", !!(s->ver.flags & GDL_VERSION_F_ENFORCE));
	for (f = 0; f < A_NR; f++) {
		prom_head(af[f].name, af[f].type, af[f].help);
		for (a = 0; a < s->nr_agent; a++) {
			for (d = 0; d < s->nr_dev; d++) {
				printf("gpu_dma_lock_%s{agent=\"", af[f].name);
				prom_label(s->agent[a].name);
				/* A pod's container: its Kubernetes names too. */
				if (ctl_labels(s->agent[a].name, &l)) {
					printf("\",namespace=\"");
					prom_label(l.ns);
					printf("\",pod=\"");
					prom_label(l.pod);
					printf("\",container=\"");
					prom_label(l.ctr);
				}
				printf("\",device=\"%u\"}", s->dev[d].index);
				prom_value(agent_field(&s->q[a * s->nr_dev + d], f),
					   f == A_QUOTA);
			}
		}
	}
	prom_dmem(s, "agent_dmem_current_bytes",
		  "What the kernel's dmem controller charged to the agent's cgroups on the device's region (only where it has one).",
		  false);
	prom_dmem(s, "agent_dmem_unledgered_bytes",
		  "dmem.current above the ledger's usage: memory allocated without the interposer (0: none).",
		  true);
	prom_head("device_dmem_enforced", "gauge",
		  "1 when the kernel's dmem controller enforces the quotas on the device, 0 when the interposer alone does.");
	for (d = 0; d < s->nr_dev; d++) {
		printf("gpu_dma_lock_device_dmem_enforced{device=\"%u\",name=\"",
		       s->dev[d].index);
		prom_label(s->dev[d].name);
		printf("\"} %d\n", !!s->map[d].region[0]);
	}
	for (f = 0; f < D_NR; f++) {
		prom_head(df[f].name, df[f].type, df[f].help);
		for (d = 0; d < s->nr_dev; d++) {
			printf("gpu_dma_lock_%s{device=\"%u\",name=\"", df[f].name,
			       s->dev[d].index);
			prom_label(s->dev[d].name);
			printf("\"}");
			prom_value(dev_field(&s->dev[d], f), f == D_CAPACITY);
		}
	}
	for (i = 0; i < nr_stats(s); i++) {
		snprintf(name, sizeof(name), "%s%s", stat_name[i],
			 stat_info[i].counter ? "_total" : "");
		prom_head(name, stat_info[i].counter ? "counter" : "gauge",
			  stat_info[i].help);
		printf("gpu_dma_lock_%s %llu\n", name,
		       (unsigned long long)s->st.counters[i]);
	}
}

static void print_table(const struct snapshot *s)
{
	char b1[24], b2[24], b3[24];
	unsigned int i;
	int a, d;

	printf("gpu_dma_lock %s, ABI %u.%u, %s\n\n", s->ver.module_version,
	       s->ver.abi_major, s->ver.abi_minor,
	       s->ver.flags & GDL_VERSION_F_ENFORCE ? "enforcing" : "AUDIT ONLY (enforce=0)");
	/* STATE last: scripts read "gone" at the end of the line. */
	printf("%-6s %-20s %10s %10s %10s %6s %-11s %s\n", "DEVICE", "NAME",
	       "CAPACITY", "USED", "PEAK", "RESV", "ENFORCEMENT", "STATE");
	for (d = 0; d < s->nr_dev; d++)
		printf("%-6u %-20s %10s %10s %10s %6llu %-11s %s\n", s->dev[d].index,
		       s->dev[d].name,
		       gdlu_fmt_size(s->dev[d].capacity, b1, sizeof(b1)),
		       gdlu_fmt_size(s->dev[d].used, b2, sizeof(b2)),
		       gdlu_fmt_size(s->dev[d].peak, b3, sizeof(b3)),
		       (unsigned long long)s->dev[d].nr_reservations,
		       s->map[d].region[0] ? "dmem" : "interposer",
		       s->dev[d].flags & GDL_DEV_F_GONE ? "gone" : "live");
	/* DMEM beside the ledger's USAGE; OVER stays last. */
	printf("\n%-20s %6s %10s %10s %10s %10s %6s %7s %s\n", "AGENT", "DEVICE",
	       "QUOTA", "USAGE", "DMEM", "PEAK", "RESV", "DENIED", "OVER");
	for (a = 0; a < s->nr_agent; a++) {
		for (d = 0; d < s->nr_dev; d++) {
			const struct gdl_quota *q = &s->q[a * s->nr_dev + d];

			char b4[24] = "-";

			if (s->dcur[a * s->nr_dev + d] != NO_DMEM)
				gdlu_fmt_size(s->dcur[a * s->nr_dev + d], b4, sizeof(b4));
			printf("%-20s %6u %10s %10s %10s %10s %6llu %7llu %s\n",
			       s->agent[a].name, s->dev[d].index,
			       gdlu_fmt_size(q->quota, b1, sizeof(b1)),
			       gdlu_fmt_size(q->usage, b2, sizeof(b2)), b4,
			       gdlu_fmt_size(q->peak, b3, sizeof(b3)),
			       (unsigned long long)q->nr_reservations,
			       (unsigned long long)q->denied,
			       q->flags & GDL_QUOTA_F_OVER ? "yes" : "");
		}
	}
	printf("\n");
	for (i = 0; i < nr_stats(s); i++)
		printf("%-24s %llu\n", stat_name[i],
		       (unsigned long long)s->st.counters[i]);
}

int cmd_stats(struct ctl *c, int argc, char **argv)
{
	struct snapshot s;
	struct gdlock *g;
	bool prom = false;
	int i, ret;

	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl stats [--json | --prometheus]\n\n"
		       "Devices, every agent's quota, usage, peak, reservations and denials\n"
		       "on every device, and the module's counters.  --json follows\n"
		       "docs/stats.schema.json; --prometheus is the text exposition format\n"
		       "(for node_exporter's textfile collector).  Needs root to see every agent.\n");
		return EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--prometheus"))
			prom = true;
		else
			return ctl_usage_err("stats", "unexpected argument '%s'", argv[i]);
	}
	if (prom && c->json)
		return ctl_usage_err("stats", "--json and --prometheus exclude each other");
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = snapshot_take(g, &s);
	gdlock_close(g);
	if (ret) {
		snapshot_free(&s);
		return ctl_err(ret, "stats");
	}
	if (c->json)
		print_json(&s);
	else if (prom)
		print_prometheus(&s);
	else
		print_table(&s);
	snapshot_free(&s);
	return EXIT_OK;
}
