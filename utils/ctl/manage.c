// SPDX-License-Identifier: GPL-2.0
/*
 * Management: device, agent, quota, acl and reserve.  Devices and agents
 * are named on the command line by index/id or by name (and devices by PCI
 * address); the kernel is asked each time, so there is no cached state.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "dmem.h"
#include "json.h"

/* Options of all management commands; each command allows a subset. */
enum {
	O_CAPACITY = 1 << 0, O_PCI = 1 << 1, O_NAME = 1 << 2,
	O_DEFQUOTA = 1 << 3, O_PID = 1 << 4, O_CGROUP = 1 << 5,
	O_ADDR = 1 << 6, O_LEN = 1 << 7, O_PEER = 1 << 8, O_OWNER = 1 << 9,
	O_HOLD = 1 << 10, O_CGROUP_ID = 1 << 11, O_MAX_RES = 1 << 12,
	O_MAX_ACL = 1 << 13,
};

struct mopts {
	unsigned int given;
	const char *capacity, *pci, *name, *defquota, *pid, *cgroup;
	const char *addr, *len, *peer, *owner, *cgroup_id;
	const char *max_res, *max_acl;
};

/* Returns the index of the first positional argument, or -1 (printed). */
static int parse_opts(const char *cmd, const char *usage, int argc,
		      char **argv, unsigned int allowed, struct mopts *o)
{
	static const struct option opts[] = {
		{ "capacity", required_argument, NULL, O_CAPACITY },
		{ "pci", required_argument, NULL, O_PCI },
		{ "name", required_argument, NULL, O_NAME },
		{ "default-quota", required_argument, NULL, O_DEFQUOTA },
		{ "pid", required_argument, NULL, O_PID },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "addr", required_argument, NULL, O_ADDR },
		{ "len", required_argument, NULL, O_LEN },
		{ "peer", required_argument, NULL, O_PEER },
		{ "owner", required_argument, NULL, O_OWNER },
		{ "hold", no_argument, NULL, O_HOLD },
		{ "cgroup-id", required_argument, NULL, O_CGROUP_ID },
		{ "max-reservations", required_argument, NULL, O_MAX_RES },
		{ "max-acl-entries", required_argument, NULL, O_MAX_ACL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			printf("usage: gpu-dma-lock-ctl %s\n", usage);
			exit(EXIT_OK);
		}
		if (opt == '?' || !(allowed & (unsigned int)opt)) {
			ctl_usage_err(cmd, "unknown or misplaced option '%s'",
				      argv[optind - 1]);
			return -1;
		}
		o->given |= opt;
		switch (opt) {
		case O_CAPACITY: o->capacity = optarg; break;
		case O_PCI: o->pci = optarg; break;
		case O_NAME: o->name = optarg; break;
		case O_DEFQUOTA: o->defquota = optarg; break;
		case O_PID: o->pid = optarg; break;
		case O_CGROUP: o->cgroup = optarg; break;
		case O_ADDR: o->addr = optarg; break;
		case O_LEN: o->len = optarg; break;
		case O_PEER: o->peer = optarg; break;
		case O_OWNER: o->owner = optarg; break;
		case O_CGROUP_ID: o->cgroup_id = optarg; break;
		case O_MAX_RES: o->max_res = optarg; break;
		case O_MAX_ACL: o->max_acl = optarg; break;
		}
	}
	return optind;
}

static int size_arg(const char *cmd, const char *what, const char *s,
		    uint64_t *out)
{
	if (ctl_parse_size(s, out))
		return ctl_usage_err(cmd, "%s '%s' is not a size (examples: 4096, 512M, 16G, unlimited)",
				     what, s);
	return 0;
}

/* Positional argument count check, with the usage line on error. */
#define NEED_ARGS(cmd, first, argc, n) do {				\
	if ((argc) - (first) != (n))					\
		return ctl_usage_err(cmd, "expects %d argument%s", n,	\
				     (n) == 1 ? "" : "s");		\
} while (0)

/* ---- device ---- */

static void device_json(struct jw *w, const struct gdl_device_info *d,
			const struct gdlu_dmem_dev *m)
{
	char pci[32];

	jw_obj(w, NULL);
	jw_u64(w, "index", d->index);
	jw_str(w, "name", d->name);
	if (d->flags & GDL_DEV_F_PCI) {
		gdlu_fmt_pci_addr(d->pci_domain, d->pci_bdf, pci, sizeof(pci));
		jw_str(w, "pci", pci);
		snprintf(pci, sizeof(pci), "%04x:%04x", d->vendor, d->device);
		jw_str(w, "pci_id", pci);
	} else {
		jw_null(w, "pci");
		jw_null(w, "pci_id");
	}
	jw_str(w, "source", d->flags & GDL_DEV_F_PCI ? "pci" : "manual");
	jw_str(w, "state", d->flags & GDL_DEV_F_GONE ? "gone" : "live");
	jw_size(w, "capacity", d->capacity);
	jw_u64(w, "used", d->used);
	jw_u64(w, "peak", d->peak);
	jw_u64(w, "reservations", d->nr_reservations);
	jw_str(w, "enforcement", m->region[0] ? "dmem" : "interposer");
	jw_str(w, "dmem_region", m->region[0] ? m->region : NULL);
	jw_end(w, '}');
}

static int device_list(struct ctl *c, int argc, char **argv)
{
	struct gdlu_dmem_dev m[GDL_MAX_DEVICES];
	struct gdl_device_info *d;
	struct gdlock *g;
	struct mopts o;
	int n, i, ret;

	i = parse_opts("device list", "device list [--json]", argc, argv, 0, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("device list", i, argc, 0);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	n = ctl_devices(g, &d);
	gdlock_close(g);
	if (n < 0)
		return ctl_err(n, "device list");
	n = n > GDL_MAX_DEVICES ? GDL_MAX_DEVICES : n;
	gdlu_dmem_map(d, n, m);
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout, true);
		jw_arr(&w, NULL);
		for (i = 0; i < n; i++)
			device_json(&w, &d[i], &m[i]);
		jw_end(&w, ']');
		jw_done(&w);
	} else {
		/* STATE last: scripts read "gone" at the end of the line. */
		printf("%-5s %-20s %-13s %-9s %10s %10s %10s %6s %-6s %-11s %s\n",
		       "INDEX", "NAME", "PCI", "ID", "CAPACITY", "USED", "PEAK",
		       "RESV", "SOURCE", "ENFORCEMENT", "STATE");
		for (i = 0; i < n; i++) {
			char pci[32] = "-", id[16] = "-", b1[24], b2[24], b3[24];

			if (d[i].flags & GDL_DEV_F_PCI) {
				gdlu_fmt_pci_addr(d[i].pci_domain, d[i].pci_bdf, pci, sizeof(pci));
				snprintf(id, sizeof(id), "%04x:%04x", d[i].vendor, d[i].device);
			}
			printf("%-5u %-20s %-13s %-9s %10s %10s %10s %6llu %-6s %-11s %s\n",
			       d[i].index, d[i].name, pci, id,
			       gdlu_fmt_size(d[i].capacity, b1, sizeof(b1)),
			       gdlu_fmt_size(d[i].used, b2, sizeof(b2)),
			       gdlu_fmt_size(d[i].peak, b3, sizeof(b3)),
			       (unsigned long long)d[i].nr_reservations,
			       d[i].flags & GDL_DEV_F_PCI ? "pci" : "manual",
			       m[i].region[0] ? "dmem" : "interposer",
			       d[i].flags & GDL_DEV_F_GONE ? "gone" : "live");
		}
	}
	free(d);
	return EXIT_OK;
}

static int device_add(struct ctl *c, int argc, char **argv)
{
	static const char *u = "device add NAME [--capacity SIZE] [--pci DOMAIN:BUS:DEV.FN]";
	struct gdl_device_info d;
	struct gdlock *g;
	struct mopts o;
	int i, ret;

	i = parse_opts("device add", u, argc, argv, O_CAPACITY | O_PCI, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("device add", i, argc, 1);
	memset(&d, 0, sizeof(d));
	if (strlen(argv[i]) >= sizeof(d.name) || !*argv[i])
		return ctl_usage_err("device add", "a name is 1 to %zu bytes", sizeof(d.name) - 1);
	strcpy(d.name, argv[i]);
	d.capacity = GDL_QUOTA_UNLIMITED;
	if (o.capacity) {
		uint64_t v;

		if (size_arg("device add", "capacity", o.capacity, &v))
			return EXIT_USAGE;
		d.capacity = v;
	}
	if (o.pci && gdl_parse_pci_addr(o.pci, &d.pci_domain, &d.pci_bdf))
		return ctl_usage_err("device add", "'%s' is not a PCI address like 0000:03:00.0", o.pci);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = gdlock_device_add(g, &d);
	gdlock_close(g);
	if (ret)
		return ctl_err(ret, "device add");
	if (c->json)
		printf("{\"index\": %u}\n", d.index);
	else
		printf("device %u: %s\n", d.index, d.name);
	return EXIT_OK;
}

static int device_set(struct ctl *c, int argc, char **argv)
{
	static const char *u = "device set DEV [--capacity SIZE] [--name NAME]";
	struct gdl_device_set s;
	struct gdlock *g;
	struct mopts o;
	int i, ret;

	i = parse_opts("device set", u, argc, argv, O_CAPACITY | O_NAME, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("device set", i, argc, 1);
	if (!o.given)
		return ctl_usage_err("device set", "nothing to set: give --capacity or --name");
	memset(&s, 0, sizeof(s));
	if (o.capacity) {
		uint64_t v;

		if (size_arg("device set", "capacity", o.capacity, &v))
			return EXIT_USAGE;
		s.capacity = v;
		s.mask |= GDL_DEVSET_CAPACITY;
	}
	if (o.name) {
		if (!*o.name || strlen(o.name) >= sizeof(s.name))
			return ctl_usage_err("device set", "a name is 1 to %zu bytes", sizeof(s.name) - 1);
		strcpy(s.name, o.name);
		s.mask |= GDL_DEVSET_NAME;
	}
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = ctl_resolve_device(g, argv[i], &s.index);
	if (!ret) {
		ret = gdlock_device_set(g, &s);
		ret = ret ? ctl_err(ret, "device set") : EXIT_OK;
	}
	gdlock_close(g);
	return ret;
}

static int device_remove(struct ctl *c, int argc, char **argv)
{
	struct gdlock *g;
	struct mopts o;
	uint32_t idx;
	int i, ret;

	i = parse_opts("device remove", "device remove DEV", argc, argv, 0, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("device remove", i, argc, 1);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = ctl_resolve_device(g, argv[i], &idx);
	if (!ret) {
		ret = gdlock_device_remove(g, idx);
		ret = ret ? ctl_err(ret, "device remove") : EXIT_OK;
	}
	gdlock_close(g);
	return ret;
}

int cmd_device(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_cmd sub[] = {
		{ "list", device_list, "list [--json]" },
		{ "add", device_add, "add NAME [--capacity SIZE] [--pci DOMAIN:BUS:DEV.FN]" },
		{ "set", device_set, "set DEV [--capacity SIZE] [--name NAME]" },
		{ "remove", device_remove, "remove DEV   (DEV: index, name or PCI address)" },
		{ NULL, NULL, NULL }
	};

	return ctl_subcommand(c, "device", sub, argc, argv);
}

/* ---- agent ---- */

#define AGENT_LIMITS_USAGE "[--max-reservations N] [--max-acl-entries N]"

/* An agent's shares (0 or absent: the module's default). */
static int limit_args(const char *cmd, const struct mopts *o, uint32_t *res,
		      uint32_t *acl)
{
	*res = *acl = 0;
	if (o->max_res && gdlu_parse_u32(o->max_res, res))
		return ctl_usage_err(cmd, "'%s' is not a number of reservations",
				     o->max_res);
	if (o->max_acl && gdlu_parse_u32(o->max_acl, acl))
		return ctl_usage_err(cmd, "'%s' is not a number of ACL entries",
				     o->max_acl);
	return 0;
}

static int agent_create(struct ctl *c, int argc, char **argv)
{
	struct gdlock *g;
	struct mopts o;
	uint64_t q = 0;
	uint32_t id, mres, macl;
	int i, ret;

	i = parse_opts("agent create", "agent create NAME [--default-quota SIZE] "
		       AGENT_LIMITS_USAGE, argc, argv,
		       O_DEFQUOTA | O_MAX_RES | O_MAX_ACL, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("agent create", i, argc, 1);
	if (o.defquota && size_arg("agent create", "default quota", o.defquota, &q))
		return EXIT_USAGE;
	if (limit_args("agent create", &o, &mres, &macl))
		return EXIT_USAGE;
	if (!*argv[i] || strlen(argv[i]) >= GDL_NAME_LEN)
		return ctl_usage_err("agent create", "a name is 1 to %d bytes", GDL_NAME_LEN - 1);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	/* The 0.1 call where no limit is asked for: works with any module. */
	if (mres || macl)
		ret = gdlock_agent_create_limits(g, argv[i], q, mres, macl, &id);
	else
		ret = gdlock_agent_create(g, argv[i], q, &id);
	gdlock_close(g);
	if (ret)
		return ctl_err(ret, "agent create");
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout, false);
		jw_obj(&w, NULL);
		jw_u64(&w, "id", id);
		jw_str(&w, "name", argv[i]);
		jw_end(&w, '}');
		jw_done(&w);
	} else {
		printf("agent %u: %s\n", id, argv[i]);
	}
	return EXIT_OK;
}

static int agent_limits(struct ctl *c, int argc, char **argv)
{
	static const char *const u = "agent limits AGENT " AGENT_LIMITS_USAGE;
	struct gdlock *g;
	struct mopts o;
	uint32_t id, mres, macl;
	int i, ret;

	i = parse_opts("agent limits", u, argc, argv, O_MAX_RES | O_MAX_ACL, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("agent limits", i, argc, 1);
	if (limit_args("agent limits", &o, &mres, &macl))
		return EXIT_USAGE;
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = ctl_resolve_agent(g, argv[i], &id);
	if (!ret) {
		ret = gdlock_agent_set_limits(g, id, mres, macl);
		ret = ret ? ctl_err(ret, "agent limits") : EXIT_OK;
	}
	gdlock_close(g);
	return ret;
}

static int agent_destroy(struct ctl *c, int argc, char **argv)
{
	struct gdlock *g;
	struct mopts o;
	uint32_t id;
	int i, ret;

	i = parse_opts("agent destroy", "agent destroy AGENT", argc, argv, 0, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("agent destroy", i, argc, 1);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = ctl_resolve_agent(g, argv[i], &id);
	if (!ret) {
		ret = gdlock_agent_destroy(g, id);
		ret = ret ? ctl_err(ret, "agent destroy") : EXIT_OK;
	}
	gdlock_close(g);
	return ret;
}

/*
 * Live agents, then destroyed ones that still hold memory (module ABI 1.4),
 * with what each is charged on all devices: whatever holds memory stays
 * visible, and 'holders' says who holds it.
 */
static int agent_list(struct ctl *c, int argc, char **argv)
{
	struct gdl_device_info *d = NULL;
	struct ctl_labels l;
	struct gdl_agent_info *a;
	struct gdlock *g;
	struct mopts o;
	uint64_t *used;
	int n, nd, i, ret;

	i = parse_opts("agent list", "agent list [--json]", argc, argv, 0, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("agent list", i, argc, 0);
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	n = ctl_agents_all(g, &a);
	if (n < 0) {
		gdlock_close(g);
		return ctl_err(n, "agent list");
	}
	nd = ctl_devices(g, &d);
	used = calloc(n + 1, sizeof(*used));
	for (i = 0; used && i < n; i++)
		used[i] = ctl_agent_used(g, d, nd < 0 ? 0 : nd, a[i].id);
	gdlock_close(g);
	free(d);
	if (!used) {
		free(a);
		return ctl_err(-ENOMEM, "agent list");
	}
	if (c->json) {
		struct jw w;

		jw_init(&w, stdout, true);
		jw_arr(&w, NULL);
		for (i = 0; i < n; i++) {
			jw_obj(&w, NULL);
			jw_u64(&w, "id", a[i].id);
			jw_str(&w, "name", a[i].name);
			if (ctl_labels(a[i].name, &l)) {
				jw_str(&w, "namespace", l.ns);
				jw_str(&w, "pod", l.pod);
				jw_str(&w, "container", l.ctr);
			}
			jw_bool(&w, "default", a[i].flags & GDL_AGENT_F_DEFAULT);
			jw_size(&w, "default_quota", a[i].default_quota);
			jw_u64(&w, "bindings", a[i].nr_bindings);
			jw_u64(&w, "used", used[i]);
			jw_str(&w, "state", a[i].flags & GDL_AGENT_F_DESTROYED ?
			       "destroyed" : "live");
			jw_end(&w, '}');
		}
		jw_end(&w, ']');
		jw_done(&w);
	} else {
		printf("%-6s %-32s %13s %8s %8s %-9s\n", "ID", "NAME",
		       "DEFAULT-QUOTA", "BINDINGS", "USED", "STATE");
		for (i = 0; i < n; i++) {
			bool dead = a[i].flags & GDL_AGENT_F_DESTROYED;
			char b[24], u[24], pod[800] = "";

			/* A pod's container: namespace/pod/container after it. */
			if (ctl_labels(a[i].name, &l))
				snprintf(pod, sizeof(pod), "  %s/%s/%s", l.ns, l.pod, l.ctr);
			printf("%-6u %-32s %13s %8u %8s %-9s%s%s\n", a[i].id,
			       a[i].name,
			       gdlu_fmt_size(a[i].default_quota, b, sizeof(b)),
			       a[i].nr_bindings,
			       gdlu_fmt_size(used[i], u, sizeof(u)),
			       dead ? "destroyed" : "live",
			       a[i].flags & GDL_AGENT_F_DEFAULT ? "  (default agent)" :
			       dead ? "  (still charged: see 'gpu-dma-lock-ctl holders')" : "",
			       pod);
		}
	}
	free(used);
	free(a);
	return EXIT_OK;
}

static int agent_bind_common(struct ctl *c, int argc, char **argv, bool unbind)
{
	const char *cmd = unbind ? "agent unbind" : "agent bind";
	struct gdlock *g;
	struct mopts o;
	uint32_t id, pid = 0;
	uint64_t cgid = 0;
	int i, ret;

	i = parse_opts(cmd, unbind ? "agent unbind AGENT (--pid PID | --cgroup PATH | --cgroup-id ID)" :
		       "agent bind AGENT (--pid PID | --cgroup PATH)",
		       argc, argv, O_PID | O_CGROUP | (unbind ? O_CGROUP_ID : 0), &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS(cmd, i, argc, 1);
	if (!!o.pid + !!o.cgroup + !!o.cgroup_id != 1)
		return ctl_usage_err(cmd, unbind ?
				     "give exactly one of --pid PID, --cgroup PATH or --cgroup-id ID" :
				     "give exactly one of --pid PID or --cgroup PATH");
	if (o.pid && (gdlu_parse_u32(o.pid, &pid) || !pid || pid > INT32_MAX))
		return ctl_usage_err(cmd, "'%s' is not a pid", o.pid);
	if (o.cgroup_id && (gdlu_parse_u64(o.cgroup_id, &cgid) || !cgid || cgid > INT64_MAX))
		return ctl_usage_err(cmd, "'%s' is not a cgroup id (see 'agent bindings')", o.cgroup_id);
	if (o.cgroup && access(o.cgroup, F_OK))
		return ctl_usage_err(cmd, "%s: no such cgroup directory%s", o.cgroup,
				     unbind ? " (a removed cgroup's binding goes by --cgroup-id)" : "");
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = ctl_resolve_agent(g, argv[i], &id);
	if (!ret) {
		if (o.pid)
			ret = unbind ? gdlock_unbind_pid(g, id, pid) :
				       gdlock_bind_pid(g, id, pid);
		else if (o.cgroup_id)
			ret = gdlock_unbind_cgroup_id(g, id, cgid);
		else
			ret = unbind ? gdlock_unbind_cgroup(g, id, o.cgroup) :
				       gdlock_bind_cgroup(g, id, o.cgroup);
		if (ret == -ENOTDIR || ret == -EBADF) {
			fprintf(stderr, "%s: %s is not a cgroup v2 directory\n", cmd, o.cgroup);
			ret = EXIT_USAGE;
		} else {
			ret = ret ? ctl_err(ret, cmd) : EXIT_OK;
		}
	}
	gdlock_close(g);
	return ret;
}

static int agent_bind(struct ctl *c, int argc, char **argv)
{
	return agent_bind_common(c, argc, argv, false);
}

static int agent_unbind(struct ctl *c, int argc, char **argv)
{
	return agent_bind_common(c, argc, argv, true);
}

int cmd_agent(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_cmd sub[] = {
		{ "create", agent_create, "create NAME [--default-quota SIZE] " AGENT_LIMITS_USAGE },
		{ "limits", agent_limits, "limits AGENT " AGENT_LIMITS_USAGE "   (0 or absent: the module's default)" },
		{ "destroy", agent_destroy, "destroy AGENT   (AGENT: name or id)" },
		{ "list", agent_list, "list [--json]" },
		{ "bindings", agent_bindings, "bindings [AGENT] [--json]   who is bound to each agent" },
		{ "bind", agent_bind, "bind AGENT (--pid PID | --cgroup PATH)" },
		{ "unbind", agent_unbind, "unbind AGENT (--pid PID | --cgroup PATH | --cgroup-id ID)" },
		{ NULL, NULL, NULL }
	};

	return ctl_subcommand(c, "agent", sub, argc, argv);
}

/* ---- quota ---- */

static int quota_set(struct ctl *c, int argc, char **argv)
{
	struct gdlock *g;
	struct mopts o;
	uint32_t id, dev = GDL_ALL_DEVICES;
	uint64_t q;
	int i, ret;

	i = parse_opts("quota set", "quota set AGENT DEV|all SIZE|unlimited",
		       argc, argv, 0, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS("quota set", i, argc, 3);
	if (size_arg("quota set", "quota", argv[i + 2], &q))
		return EXIT_USAGE;
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = ctl_resolve_agent(g, argv[i], &id);
	if (!ret && strcmp(argv[i + 1], "all"))
		ret = ctl_resolve_device(g, argv[i + 1], &dev);
	if (!ret) {
		ret = gdlock_quota_set(g, id, dev, q);
		ret = ret ? ctl_err(ret, "quota set") : EXIT_OK;
	}
	gdlock_close(g);
	return ret;
}

static int quota_get(struct ctl *c, int argc, char **argv)
{
	struct gdl_device_info *d = NULL;
	struct gdlock *g;
	struct mopts o;
	bool dead = false;
	struct jw w;
	uint32_t id;
	int i, n, ret, first;

	first = parse_opts("quota get", "quota get AGENT [DEV] [--json]", argc, argv, 0, &o);
	if (first < 0)
		return EXIT_USAGE;
	if (argc - first != 1 && argc - first != 2)
		return ctl_usage_err("quota get", "expects AGENT [DEV]");
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	/* A destroyed agent too: what it still holds, per device. */
	ret = ctl_resolve_agent_all(g, argv[first], &id);
	if (ret)
		goto out;
	n = ctl_devices(g, &d);
	if (n < 0) {
		ret = ctl_err(n, "quota get");
		goto out;
	}
	if (argc - first == 2) {
		i = gdlu_find_device(d, n, argv[first + 1]);
		if (i < 0) {
			ret = ctl_resolve_device(g, argv[first + 1], &id);
			goto out;
		}
		d[0] = d[i];
		n = 1;
	}
	if (c->json) {
		jw_init(&w, stdout, true);
		jw_arr(&w, NULL);
	} else {
		printf("%-6s %10s %10s %10s %6s %8s %s\n", "DEVICE", "QUOTA",
		       "USAGE", "PEAK", "RESV", "DENIED", "OVER");
	}
	for (i = 0; i < n; i++) {
		struct gdl_quota q;
		char b1[24], b2[24], b3[24];

		ret = ctl_quota_get(g, id, d[i].index, &q);
		if (ret) {
			ret = ctl_err(ret, "quota get");
			goto out;
		}
		if (c->json) {
			jw_obj(&w, NULL);
			jw_u64(&w, "device", d[i].index);
			jw_size(&w, "quota", q.quota);
			jw_u64(&w, "usage", q.usage);
			jw_u64(&w, "peak", q.peak);
			jw_u64(&w, "reservations", q.nr_reservations);
			jw_u64(&w, "denied", q.denied);
			jw_bool(&w, "over", q.flags & GDL_QUOTA_F_OVER);
			jw_bool(&w, "destroyed", q.flags & GDL_QUOTA_F_DESTROYED);
			jw_end(&w, '}');
		} else {
			printf("%-6u %10s %10s %10s %6llu %8llu %s\n", d[i].index,
			       gdlu_fmt_size(q.quota, b1, sizeof(b1)),
			       gdlu_fmt_size(q.usage, b2, sizeof(b2)),
			       gdlu_fmt_size(q.peak, b3, sizeof(b3)),
			       (unsigned long long)q.nr_reservations,
			       (unsigned long long)q.denied,
			       q.flags & GDL_QUOTA_F_OVER ? "yes" : "no");
			dead |= q.flags & GDL_QUOTA_F_DESTROYED;
		}
	}
	if (c->json) {
		jw_end(&w, ']');
		jw_done(&w);
	} else if (dead) {
		printf("agent %u was destroyed: this is what it still holds (see 'gpu-dma-lock-ctl holders --agent %u')\n",
		       id, id);
	}
	ret = EXIT_OK;
out:
	free(d);
	gdlock_close(g);
	return ret;
}

int cmd_quota(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_cmd sub[] = {
		{ "set", quota_set, "set AGENT DEV|all SIZE|unlimited   (SIZE: 4096, 512M, 16G...)" },
		{ "get", quota_get, "get AGENT [DEV] [--json]" },
		{ NULL, NULL, NULL }
	};

	return ctl_subcommand(c, "quota", sub, argc, argv);
}

/* ---- acl ---- */

static int acl_change(struct ctl *c, int argc, char **argv, bool revoke)
{
	const char *cmd = revoke ? "acl revoke" : "acl grant";
	struct gdl_acl_entry e;
	struct gdlock *g;
	struct mopts o;
	uint64_t len = 0, addr = 0;
	int i, ret;

	i = parse_opts(cmd, revoke ?
		       "acl revoke AGENT DEV r|w|rw [--addr ADDR --len SIZE] [--owner AGENT] | AGENT DEV p --peer DEV" :
		       "acl grant AGENT DEV r|w|rw [--addr ADDR --len SIZE] [--owner AGENT] | AGENT DEV p --peer DEV",
		       argc, argv, O_ADDR | O_LEN | O_PEER | O_OWNER, &o);
	if (i < 0)
		return EXIT_USAGE;
	NEED_ARGS(cmd, i, argc, 3);
	memset(&e, 0, sizeof(e));
	if (ctl_parse_rights(argv[i + 2], &e.rights))
		return ctl_usage_err(cmd, "rights '%s': r, w, rw, or p (peer) alone", argv[i + 2]);
	if (e.rights == GDL_ACCESS_PEER) {
		if (!o.peer || o.addr || o.len || o.owner)
			return ctl_usage_err(cmd, "a peer right takes --peer DEV and no range or owner");
	} else {
		if (o.peer || !o.len)
			return ctl_usage_err(cmd, "r/w rights take --len SIZE (and --addr ADDR, default 0)");
		if (o.addr && gdlu_parse_u64(o.addr, &addr))
			return ctl_usage_err(cmd, "'%s' is not an address (decimal or 0x hex)", o.addr);
		e.addr = addr;
		if (size_arg(cmd, "length", o.len, &len))
			return EXIT_USAGE;
		e.len = len;
	}
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = ctl_resolve_agent(g, argv[i], &e.agent_id);
	if (!ret)
		ret = ctl_resolve_device(g, argv[i + 1], &e.dev_index);
	if (!ret && o.peer)
		ret = ctl_resolve_device(g, o.peer, &e.peer_index);
	if (!ret && o.owner)
		ret = ctl_resolve_agent(g, o.owner, &e.owner_id);
	if (!ret) {
		ret = revoke ? gdlock_acl_revoke(g, &e, 1) : gdlock_acl_grant(g, &e, 1);
		ret = ret ? ctl_err(ret, cmd) : EXIT_OK;
	}
	gdlock_close(g);
	return ret;
}

static int acl_grant(struct ctl *c, int argc, char **argv)
{
	return acl_change(c, argc, argv, false);
}

static int acl_revoke(struct ctl *c, int argc, char **argv)
{
	return acl_change(c, argc, argv, true);
}

static int acl_list(struct ctl *c, int argc, char **argv)
{
	struct gdl_acl_entry *e;
	struct gdlock *g;
	struct mopts o;
	uint32_t id = 0;
	int i, n, ret;

	i = parse_opts("acl list", "acl list [AGENT] [--json]", argc, argv, 0, &o);
	if (i < 0)
		return EXIT_USAGE;
	if (argc - i > 1)
		return ctl_usage_err("acl list", "expects at most one AGENT");
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	if (argc - i == 1)
		ret = ctl_resolve_agent(g, argv[i], &id);
	if (ret) {
		gdlock_close(g);
		return ret;
	}
	n = ctl_acls(g, id, &e);
	gdlock_close(g);
	if (n < 0)
		return ctl_err(n, "acl list");
	if (c->json) {
		struct jw w;
		char r[4];

		jw_init(&w, stdout, true);
		jw_arr(&w, NULL);
		for (i = 0; i < n; i++) {
			jw_obj(&w, NULL);
			jw_u64(&w, "agent", e[i].agent_id);
			jw_u64(&w, "owner", e[i].owner_id);
			jw_u64(&w, "device", e[i].dev_index);
			jw_str(&w, "rights", ctl_rights_str(e[i].rights, r));
			if (e[i].rights & GDL_ACCESS_PEER)
				jw_u64(&w, "peer", e[i].peer_index);
			else
				jw_null(&w, "peer");
			jw_u64(&w, "addr", e[i].addr);
			jw_u64(&w, "len", e[i].len);
			jw_end(&w, '}');
		}
		jw_end(&w, ']');
		jw_done(&w);
	} else {
		printf("%-6s %-6s %-6s %-6s %-6s %-18s %s\n", "AGENT", "OWNER",
		       "DEVICE", "RIGHTS", "PEER", "ADDR", "LEN");
		for (i = 0; i < n; i++) {
			char r[4], b[24], peer[12] = "-";

			if (e[i].rights & GDL_ACCESS_PEER)
				snprintf(peer, sizeof(peer), "%u", e[i].peer_index);
			printf("%-6u %-6s %-6u %-6s %-6s 0x%016llx %s\n", e[i].agent_id,
			       e[i].owner_id ? "" : "admin", e[i].dev_index,
			       ctl_rights_str(e[i].rights, r), peer,
			       (unsigned long long)e[i].addr,
			       gdlu_fmt_size(e[i].len, b, sizeof(b)));
			if (e[i].owner_id)
				printf("       (granted by agent %u)\n", e[i].owner_id);
		}
	}
	free(e);
	return EXIT_OK;
}

int cmd_acl(struct ctl *c, int argc, char **argv)
{
	static const struct ctl_cmd sub[] = {
		{ "grant", acl_grant, "grant AGENT DEV r|w|rw --len SIZE [--addr ADDR] [--owner AGENT]\n"
				      "  acl grant AGENT DEV p --peer DEV" },
		{ "revoke", acl_revoke, "revoke ...   (same arguments as grant)" },
		{ "list", acl_list, "list [AGENT] [--json]" },
		{ NULL, NULL, NULL }
	};

	return ctl_subcommand(c, "acl", sub, argc, argv);
}

/* ---- reserve ---- */

static void on_signal(int sig)
{
	(void)sig;
}

/*
 * Reservations as the calling process's agent, for operators testing a
 * quota and for the demo's workload.  --hold keeps the file (and so the
 * reservations) until a signal: killing the process shows the kernel
 * releasing them.
 */
int cmd_reserve(struct ctl *c, int argc, char **argv)
{
	struct gdlock *g;
	struct mopts o;
	uint32_t dev;
	int i, first, ret, refused = 0;

	first = parse_opts("reserve", "reserve DEV SIZE... [--hold]", argc, argv,
			   O_HOLD, &o);
	if (first < 0)
		return EXIT_USAGE;
	if (argc - first < 2)
		return ctl_usage_err("reserve", "expects DEV and at least one SIZE");
	for (i = first + 1; i < argc; i++) {
		uint64_t v;

		if (size_arg("reserve", "size", argv[i], &v))
			return EXIT_USAGE;
	}
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	ret = ctl_resolve_device(g, argv[first], &dev);
	if (ret) {
		gdlock_close(g);
		return ret;
	}
	for (i = first + 1; i < argc; i++) {
		struct gdl_reserve r;
		uint64_t size = 0;
		char b[24];

		ctl_parse_size(argv[i], &size);	/* checked above */
		memset(&r, 0, sizeof(r));
		r.dev_index = dev;
		r.size = size;
		ret = gdlock_reserve_ex(g, &r);
		if (ret) {
			printf("reserve %s on device %u: REFUSED: %s\n",
			       gdlu_fmt_size(r.size, b, sizeof(b)), dev, gdlock_strerror(ret));
			refused++;
		} else {
			printf("reserve %s on device %u: ok (agent %u, handle %llu%s)\n",
			       gdlu_fmt_size(r.size, b, sizeof(b)), dev, r.agent_id,
			       (unsigned long long)r.handle,
			       r.result == GDL_RESULT_AUDIT ? ", over quota: allowed by audit mode" : "");
		}
	}
	fflush(stdout);
	if (o.given & O_HOLD) {
		struct sigaction sa = { .sa_handler = on_signal };

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		printf("holding the reservations (pid %d) until a signal\n", getpid());
		fflush(stdout);
		pause();
	}
	gdlock_close(g);
	return refused ? EXIT_FAIL : EXIT_OK;
}
