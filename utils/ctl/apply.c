// SPDX-License-Identifier: GPL-2.0
/*
 * apply FILE [--dry-run]: make the ledger contain what a policy file says.
 * Each statement is compared with the kernel's state and changed only when
 * it differs, so a second run changes nothing and says so.  Things the
 * file does not mention are left alone (an orchestrator may own them).
 *
 * A dry run cannot create, so devices and agents the file would create
 * are tracked here as "new" with the values the kernel would give them
 * (quota 0, no ACL entries), and statements about them are changes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "gdl_parse.h"
#include "dmem.h"
#include "policy.h"

struct dev_ent {
	uint32_t index;
	char name[GDL_NAME_LEN];
	struct gdl_device_info info;
	bool is_new;		/* dry run: would be declared */
};

struct agent_ent {
	uint32_t id;
	char name[GDL_NAME_LEN];
	uint64_t default_quota;
	uint32_t nr_bindings;
	uint32_t max_res, max_acl;	/* the shares in force */
	int bind_lines;		/* bind statements seen for it so far */
	bool is_new;
};

struct apply {
	struct gdlock *g;
	const struct policy *p;
	const char *file;
	bool dry;
	struct dev_ent *dev;
	int nr_dev, dev_cap;
	struct agent_ent *agent;
	int nr_agent;
	int changes, unchecked;
	int counted_line;	/* the line of the last change counted */
	/* What a share of 0 gives, from the module's parameters. */
	bool share_known;
	uint32_t share_res, share_acl;
};

/* A module parameter as a number; -1 when unreadable (an older module). */
static int module_param_u32(const char *name, uint32_t *v)
{
	char path[128];
	unsigned int n;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
		 GDL_MODULE_NAME, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%u", &n) == 1;
	fclose(f);
	if (!ok)
		return -1;
	*v = n;
	return 0;
}

/*
 * The shares a 0 stands for, as the module computes them at load (its
 * parameters cannot change while it is loaded).  Unknown, a share of 0 is
 * set again on every run, as it cannot be compared.
 */
static void load_default_shares(struct apply *ap)
{
	uint32_t pool_res, per_res, pool_acl, per_acl;

	if (module_param_u32("max_reservations", &pool_res) ||
	    module_param_u32("max_reservations_per_agent", &per_res) ||
	    module_param_u32("max_acl_entries", &pool_acl) ||
	    module_param_u32("max_acl_entries_per_agent", &per_acl))
		return;
	ap->share_res = gdl_default_share(per_res, pool_res);
	ap->share_acl = gdl_default_share(per_acl, pool_acl);
	ap->share_known = true;
}

static int load_state(struct apply *ap)
{
	struct gdl_device_info *d;
	struct gdl_agent_info *a;
	int n, i;

	n = ctl_devices(ap->g, &d);
	if (n < 0)
		return n;
	/* Room for every device the file may declare: the ABI caps them. */
	ap->dev_cap = n + GDL_MAX_DEVICES;
	ap->dev = calloc(ap->dev_cap, sizeof(*ap->dev));
	if (!ap->dev) {
		free(d);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ap->dev[i].index = d[i].index;
		ap->dev[i].info = d[i];
		memcpy(ap->dev[i].name, d[i].name, GDL_NAME_LEN);
	}
	ap->nr_dev = n;
	free(d);
	n = ctl_agents(ap->g, &a);
	if (n < 0)
		return n;
	ap->agent = calloc(n + 1, sizeof(*ap->agent));
	if (!ap->agent) {
		free(a);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ap->agent[i].id = a[i].id;
		memcpy(ap->agent[i].name, a[i].name, GDL_NAME_LEN);
		ap->agent[i].default_quota = a[i].default_quota;
		ap->agent[i].nr_bindings = a[i].nr_bindings;
		ap->agent[i].max_res = a[i].max_reservations;
		ap->agent[i].max_acl = a[i].max_acl_entries;
	}
	ap->nr_agent = n;
	free(a);
	load_default_shares(ap);
	return 0;
}

static struct dev_ent *find_dev(struct apply *ap, const char *sel)
{
	struct gdl_device_info *tmp = calloc(ap->nr_dev + 1, sizeof(*tmp));
	int i;

	if (!tmp)
		return NULL;
	for (i = 0; i < ap->nr_dev; i++) {
		tmp[i] = ap->dev[i].info;
		/* New (dry-run) devices match by name only. */
		if (ap->dev[i].is_new)
			tmp[i].index = GDL_ALL_DEVICES;
	}
	i = gdlu_find_device(tmp, ap->nr_dev, sel);
	free(tmp);
	return i < 0 ? NULL : &ap->dev[i];
}

static struct agent_ent *find_agent(struct apply *ap, const char *name)
{
	int i;

	for (i = 0; i < ap->nr_agent; i++)
		if (!strcmp(ap->agent[i].name, name))
			return &ap->agent[i];
	return NULL;
}

static void change(struct apply *ap, const struct pol_line *l, char sign,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void change(struct apply *ap, const struct pol_line *l, char sign,
		   const char *fmt, ...)
{
	va_list va;

	printf("%c %s:%d: ", sign, ap->file, l->lineno);
	va_start(va, fmt);
	vprintf(fmt, va);
	va_end(va);
	printf("\n");
	if (sign == '+' || sign == '~') {
		ap->changes++;
		ap->counted_line = l->lineno;
	}
}

static const char *dev_label(const struct dev_ent *d, char *buf, size_t len)
{
	if (d->is_new)
		snprintf(buf, len, "%s (new)", d->name);
	else
		snprintf(buf, len, "%u (%s)", d->index, d->name);
	return buf;
}

/* Errors name the line; they return an exit code. */
static int line_err(struct apply *ap, const struct pol_line *l, int err,
		    const char *what)
{
	char buf[256];

	/* A change listed, then refused, was not made. */
	if (ap->counted_line == l->lineno) {
		ap->changes--;
		ap->counted_line = 0;
	}
	snprintf(buf, sizeof(buf), "%s:%d: %s", ap->file, l->lineno, what);
	return ctl_err(err, buf);
}

static int no_such(struct apply *ap, const struct pol_line *l, const char *kind,
		   const char *name, const char *hint)
{
	fprintf(stderr, "%s:%d: no %s '%s': %s\n", ap->file, l->lineno, kind,
		name, hint);
	return EXIT_USAGE;
}

static int do_device(struct apply *ap, const struct pol_line *l)
{
	struct dev_ent *d = find_dev(ap, l->a);
	char b1[24], b2[24], lb[64];
	int ret;

	if (!d) {
		struct gdl_device_info in;

		if (!l->declare)
			return no_such(ap, l, "device", l->a,
				       "add 'declare' to create it, or see 'gpu-dma-lock-ctl device list'");
		if (ap->nr_dev == ap->dev_cap)
			return line_err(ap, l, -ENOSPC, "device declare");
		memset(&in, 0, sizeof(in));
		strcpy(in.name, l->a);
		in.capacity = l->has_capacity ? l->size : GDL_QUOTA_UNLIMITED;
		change(ap, l, '+', "device %s: declare, capacity %s", l->a,
		       gdlu_fmt_size(in.capacity, b1, sizeof(b1)));
		if (!ap->dry) {
			ret = gdlock_device_add(ap->g, &in);
			if (ret)
				return line_err(ap, l, ret, "device add");
		}
		d = &ap->dev[ap->nr_dev++];
		d->index = in.index;
		d->info = in;
		strcpy(d->name, in.name);
		d->is_new = ap->dry;
		return 0;
	}
	if (!l->has_capacity || d->info.capacity == l->size) {
		change(ap, l, '=', "device %s: unchanged", dev_label(d, lb, sizeof(lb)));
		return 0;
	}
	change(ap, l, '~', "device %s: capacity %s -> %s", dev_label(d, lb, sizeof(lb)),
	       gdlu_fmt_size(d->info.capacity, b1, sizeof(b1)),
	       gdlu_fmt_size(l->size, b2, sizeof(b2)));
	if (!ap->dry && !d->is_new) {
		struct gdl_device_set s;

		memset(&s, 0, sizeof(s));
		s.index = d->index;
		s.mask = GDL_DEVSET_CAPACITY;
		s.capacity = l->size;
		ret = gdlock_device_set(ap->g, &s);
		if (ret)
			return line_err(ap, l, ret, "device set");
	}
	d->info.capacity = l->size;
	return 0;
}

/*
 * Whether a share the line gives (@has, @want; 0: the module's default,
 * @dflt when known) is the one in force, @have (AGENT_LIST shows the
 * number, never 0).
 */
static bool share_in_force(const struct apply *ap, bool has, uint32_t want,
			   uint32_t dflt, uint32_t have)
{
	if (!has)
		return true;
	if (!want)
		return ap->share_known && have == dflt;
	return want == have;
}

/* An existing agent's shares, where the line names them. */
static int agent_shares(struct apply *ap, const struct pol_line *l,
			struct agent_ent *a)
{
	uint32_t res = l->has_max_res ? l->max_res : a->max_res;
	uint32_t acl = l->has_max_acl ? l->max_acl : a->max_acl;
	int ret;

	if (share_in_force(ap, l->has_max_res, l->max_res, ap->share_res,
			   a->max_res) &&
	    share_in_force(ap, l->has_max_acl, l->max_acl, ap->share_acl,
			   a->max_acl)) {
		change(ap, l, '=', "agent %s: exists (id %u)", a->name, a->id);
		return 0;
	}
	if (!ap->dry) {
		ret = gdlock_agent_set_limits(ap->g, a->id, res, acl);
		if (ret)
			return line_err(ap, l, ret, "agent limits");
	}
	change(ap, l, '~', "agent %s: max-reservations %u, max-acl-entries %u (0: default)",
	       a->name, res, acl);
	return 0;
}

static int do_agent(struct apply *ap, const struct pol_line *l)
{
	struct agent_ent *a = find_agent(ap, l->a);
	struct agent_ent *na;
	uint32_t id = 0;
	int ret;

	if (a)
		return agent_shares(ap, l, a);
	if (!ap->dry) {
		/* Without shares, the call any module knows. */
		if (l->max_res || l->max_acl)
			ret = gdlock_agent_create_limits(ap->g, l->a, 0,
							 l->max_res, l->max_acl,
							 &id);
		else
			ret = gdlock_agent_create(ap->g, l->a, 0, &id);
		if (ret)
			return line_err(ap, l, ret, "agent create");
	}
	change(ap, l, '+', "agent %s: create", l->a);
	na = realloc(ap->agent, (ap->nr_agent + 2) * sizeof(*na));
	if (!na)
		return ctl_err(-ENOMEM, "apply");
	ap->agent = na;
	a = &ap->agent[ap->nr_agent++];
	memset(a, 0, sizeof(*a));
	a->id = id;
	strcpy(a->name, l->a);
	a->is_new = ap->dry;
	return 0;
}

static int need_agent(struct apply *ap, const struct pol_line *l,
		      struct agent_ent **a)
{
	*a = find_agent(ap, l->a);
	if (!*a)
		return no_such(ap, l, "agent", l->a, "add an 'agent' line before it");
	return 0;
}

/*
 * A later quota line for the same agent and device wins ("quota x all 4M"
 * then "quota x 1 8M"): setting both in turn would change device 1 twice
 * on every run.
 */
static const struct pol_line *superseded(struct apply *ap,
					 const struct pol_line *l,
					 const struct dev_ent *d)
{
	const struct pol_line *m;

	for (m = l + 1; m < ap->p->l + ap->p->n; m++)
		if (m->kind == POL_QUOTA && !strcmp(m->a, l->a) &&
		    (m->all || find_dev(ap, m->b) == d))
			return m;
	return NULL;
}

static int quota_one(struct apply *ap, const struct pol_line *l,
		     struct agent_ent *a, struct dev_ent *d)
{
	const struct pol_line *later = superseded(ap, l, d);
	char b1[24], b2[24], lb[64];
	uint64_t cur;
	int ret;

	if (later) {
		change(ap, l, '=', "quota %s on device %s: set by line %d",
		       a->name, dev_label(d, lb, sizeof(lb)), later->lineno);
		return 0;
	}
	if (a->is_new) {
		cur = 0;
	} else if (d->is_new) {
		cur = a->default_quota;
	} else {
		struct gdl_quota q;

		ret = gdlock_quota_get(ap->g, a->id, d->index, &q);
		if (ret)
			return line_err(ap, l, ret, "quota get");
		cur = q.quota;
	}
	if (cur == l->size) {
		change(ap, l, '=', "quota %s on device %s: %s, unchanged", a->name,
		       dev_label(d, lb, sizeof(lb)), gdlu_fmt_size(cur, b1, sizeof(b1)));
		return 0;
	}
	change(ap, l, '~', "quota %s on device %s: %s -> %s", a->name,
	       dev_label(d, lb, sizeof(lb)), gdlu_fmt_size(cur, b1, sizeof(b1)),
	       gdlu_fmt_size(l->size, b2, sizeof(b2)));
	if (!ap->dry) {
		ret = gdlock_quota_set(ap->g, a->id, d->index, l->size);
		if (ret)
			return line_err(ap, l, ret, "quota set");
	}
	return 0;
}

static int do_quota(struct apply *ap, const struct pol_line *l)
{
	struct agent_ent *a;
	struct dev_ent *d;
	int ret, i;

	ret = need_agent(ap, l, &a);
	if (ret)
		return ret;
	if (l->all) {
		for (i = 0; !ret && i < ap->nr_dev; i++)
			ret = quota_one(ap, l, a, &ap->dev[i]);
		return ret;
	}
	d = find_dev(ap, l->b);
	if (!d)
		return no_such(ap, l, "device", l->b, "see 'gpu-dma-lock-ctl device list'");
	return quota_one(ap, l, a, d);
}

/*
 * Whether @a has the binding (@type, @target) now: 1, 0, or -errno.  An exited
 * process's binding does not count: binding that pid again reaches
 * whatever process has the number now.  -ENOTTY: the module is older than
 * ABI 1.1 and cannot list bindings.
 */
static int is_bound(struct apply *ap, const struct agent_ent *a,
		    uint32_t type, uint64_t target)
{
	struct gdl_binding_info *b;
	int n, i, found = 0;

	n = ctl_bindings(ap->g, a->id, &b);
	if (n < 0)
		return n;
	for (i = 0; i < n && !found; i++)
		found = b[i].type == type && b[i].target == target &&
			!(b[i].flags & GDL_BINDING_F_EXITED);
	free(b);
	return found;
}

static int bind_line(struct apply *ap, const struct pol_line *l,
		     const struct agent_ent *a)
{
	int ret = l->kind == POL_BIND_PID ?
		  gdlock_bind_pid(ap->g, a->id, (pid_t)l->pid) :
		  gdlock_bind_cgroup(ap->g, a->id, l->b);

	return ret ? line_err(ap, l, ret, "bind") : 0;
}

/*
 * A module older than ABI 1.1 only counts bindings: a real run binds and
 * sees from the count whether it was there; a dry run can only be sure for
 * an agent with fewer bindings than the file names.
 */
static int do_bind_by_count(struct apply *ap, const struct pol_line *l,
			    struct agent_ent *a, const char *what)
{
	struct gdl_agent_info *list;
	uint32_t before;
	int ret, n, i;

	if (ap->dry) {
		if (a->nr_bindings < (uint32_t)a->bind_lines) {
			change(ap, l, '+', "bind %s to %s", a->name, what);
		} else {
			change(ap, l, '?', "bind %s to %s: not checkable in a dry run (it has %u bindings; this module does not list them)",
			       a->name, what, a->nr_bindings);
			ap->unchecked++;
		}
		return 0;
	}
	ret = bind_line(ap, l, a);
	if (ret)
		return ret;
	before = a->nr_bindings;
	n = ctl_agents(ap->g, &list);
	if (n < 0)
		return line_err(ap, l, n, "agent list");
	i = ctl_find_agent(list, n, a->name);
	if (i >= 0)
		a->nr_bindings = list[i].nr_bindings;
	free(list);
	change(ap, l, a->nr_bindings == before ? '=' : '+', "bind %s to %s%s",
	       a->name, what, a->nr_bindings == before ? ": already bound" : "");
	return 0;
}

static int do_bind(struct apply *ap, const struct pol_line *l)
{
	uint32_t type = GDL_BIND_PID;
	uint64_t target = l->pid;
	char what[POL_WORD + 16];
	struct agent_ent *a;
	int ret;

	ret = need_agent(ap, l, &a);
	if (ret)
		return ret;
	if (l->kind == POL_BIND_PID) {
		snprintf(what, sizeof(what), "pid %u", l->pid);
	} else {
		snprintf(what, sizeof(what), "cgroup %s", l->b);
		/* A path that is no cgroup fails a dry run as it would a real one. */
		type = GDL_BIND_CGROUP_FD;
		ret = gdlock_cgroup_id(l->b, &target);
		if (ret)
			return line_err(ap, l, ret, "bind");
	}
	a->bind_lines++;
	ret = a->is_new ? 0 : is_bound(ap, a, type, target);
	if (ret == -ENOTTY)
		return do_bind_by_count(ap, l, a, what);
	if (ret < 0)
		return line_err(ap, l, ret, "bind");
	if (ret) {
		change(ap, l, '=', "bind %s to %s: already bound", a->name, what);
		return 0;
	}
	if (!ap->dry) {
		ret = bind_line(ap, l, a);
		if (ret)
			return ret;
	}
	change(ap, l, '+', "bind %s to %s", a->name, what);
	return 0;
}

static int do_acl(struct apply *ap, const struct pol_line *l)
{
	struct gdl_acl_entry e, *cur = NULL;
	struct agent_ent *a;
	struct dev_ent *d, *p = NULL;
	char lb[64], b[24];
	bool have = false;
	int ret, n, i;

	ret = need_agent(ap, l, &a);
	if (ret)
		return ret;
	d = find_dev(ap, l->b);
	if (!d)
		return no_such(ap, l, "device", l->b, "see 'gpu-dma-lock-ctl device list'");
	if (l->kind == POL_PEER) {
		p = find_dev(ap, l->c);
		if (!p)
			return no_such(ap, l, "device", l->c, "see 'gpu-dma-lock-ctl device list'");
	}
	memset(&e, 0, sizeof(e));
	e.agent_id = a->id;
	e.dev_index = d->index;
	if (p) {
		e.rights = GDL_ACCESS_PEER;
		e.peer_index = p->index;
	} else {
		e.rights = l->rights;
		e.addr = l->addr;
		e.len = l->len;
	}
	if (!a->is_new && !d->is_new && !(p && p->is_new)) {
		n = ctl_acls(ap->g, a->id, &cur);
		if (n < 0)
			return line_err(ap, l, n, "acl list");
		for (i = 0; i < n && !have; i++)
			have = cur[i].agent_id == e.agent_id && !cur[i].owner_id &&
			       cur[i].dev_index == e.dev_index &&
			       cur[i].rights == e.rights &&
			       cur[i].peer_index == e.peer_index &&
			       cur[i].addr == e.addr && cur[i].len == e.len;
		free(cur);
	}
	if (p)
		snprintf(lb, sizeof(lb), "peer DMA %u -> %u", d->index, p->index);
	else
		snprintf(lb, sizeof(lb), "%s%s on device %u at 0x%llx+%s",
			 e.rights & GDL_ACCESS_READ ? "r" : "",
			 e.rights & GDL_ACCESS_WRITE ? "w" : "", d->index,
			 (unsigned long long)e.addr, gdlu_fmt_size(e.len, b, sizeof(b)));
	if (have) {
		change(ap, l, '=', "acl %s: %s, present", a->name, lb);
		return 0;
	}
	change(ap, l, '+', "acl %s: grant %s", a->name, lb);
	if (!ap->dry) {
		ret = gdlock_acl_grant(ap->g, &e, 1);
		if (ret)
			return line_err(ap, l, ret, "acl grant");
	}
	return 0;
}

/*
 * dmem DEV REGION|none: the device's line in the overrides every dmem
 * sync reads (GDLU_DMEM_OVERRIDES), by PCI address; other devices' lines
 * are kept, as apply only adds.  Written whole to a new file and renamed,
 * so a sync never reads half of it.
 */
static int do_dmem(struct apply *ap, const struct pol_line *l)
{
	struct dev_ent *d = find_dev(ap, l->a);
	char pci[32], cur[GDLU_DMEM_NAME], line[GDLU_DMEM_NAME + 64];
	char tmp[] = GDLU_DMEM_OVERRIDES ".XXXXXX";
	FILE *in, *out;
	int fd, ret;

	if (!d || d->is_new || !(d->info.flags & GDL_DEV_F_PCI)) {
		fprintf(stderr, "apply: %s:%d: dmem: '%s' is no device with a PCI address\n",
			ap->file, l->lineno, l->a);
		return EXIT_USAGE;
	}
	gdlu_fmt_pci_addr(d->info.pci_domain, d->info.pci_bdf, pci, sizeof(pci));
	in = fopen(GDLU_DMEM_OVERRIDES, "re");
	if (in) {
		/* Zeroed: what fread leaves is a string. */
		char *text = calloc(1, 65537);

		ret = text && fread(text, 1, 65536, in) <= 65536 ?
		      gdlu_dmem_override(text, pci, cur, sizeof(cur)) : -ENOMEM;
		free(text);
		rewind(in);
	} else {
		ret = -ENOENT;
	}
	if (!ret && !strcmp(cur, l->b)) {
		change(ap, l, '=', "dmem %s (%s): %s", d->name, pci, l->b);
		goto done;
	}
	change(ap, l, ret ? '+' : '~', "dmem %s (%s): %s", d->name, pci, l->b);
	if (ap->dry)
		goto done;
	mkdir("/run/gpu-dma-lock", 0755);
	fd = mkstemp(tmp);
	out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		fprintf(stderr, "apply: %s: %m\n", tmp);
		if (fd >= 0)
			close(fd);
		ret = EXIT_FAIL;
		goto close_in;
	}
	/* Every other device's line, then this one's. */
	while (in && fgets(line, sizeof(line), in)) {
		size_t k = strlen(pci);

		if (!strncasecmp(line, pci, k) && (line[k] == ' ' || line[k] == '\t'))
			continue;
		fputs(line, out);
	}
	fprintf(out, "%s %s\n", pci, l->b);
	if (fchmod(fd, 0644) || fclose(out) || rename(tmp, GDLU_DMEM_OVERRIDES)) {
		fprintf(stderr, "apply: %s: %m\n", GDLU_DMEM_OVERRIDES);
		unlink(tmp);
		ret = EXIT_FAIL;
		goto close_in;
	}
done:
	ret = 0;
close_in:
	if (in)
		fclose(in);
	return ret;
}

int cmd_apply(struct ctl *c, int argc, char **argv)
{
	struct apply ap = { 0 };
	struct policy p;
	const char *file = NULL;
	char err[512];
	FILE *f;
	int i, ret;

	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl apply FILE [--dry-run]\n\n"
		       "Make the ledger contain what FILE says (gpu-dma-lock-policy(5)):\n"
		       "device capacities, agents, quotas, bindings, ACL entries.  Only\n"
		       "differences are changed; a second run changes nothing.  Lines print\n"
		       "as '+' (add), '~' (modify), '=' (unchanged), '?' (a dry run against a\n"
		       "module older than ABI 1.1 cannot tell).\n"
		       "--dry-run changes nothing.  FILE '-' is standard input.\n");
		return EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n"))
			ap.dry = true;
		else if (!file && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
			file = argv[i];
		else
			return ctl_usage_err("apply", "unexpected argument '%s'", argv[i]);
	}
	if (!file)
		return ctl_usage_err("apply", "expects a policy FILE");
	f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	if (!f) {
		fprintf(stderr, "apply: cannot open %s: %m\n", file);
		return EXIT_USAGE;
	}
	ret = policy_parse(f, file, &p, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (ret) {
		fprintf(stderr, "apply: %s\n", ret == -EINVAL ? err : strerror(-ret));
		return ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	ap.file = file;
	ap.p = &p;
	ret = ctl_open(c, &ap.g);
	if (ret)
		goto out;
	i = load_state(&ap);
	if (i) {
		ret = ctl_err(i, "apply: reading the ledger");
		goto out;
	}
	for (i = 0; i < p.n && !ret; i++) {
		const struct pol_line *l = &p.l[i];

		switch (l->kind) {
		case POL_DEVICE:
			ret = do_device(&ap, l);
			break;
		case POL_AGENT:
			ret = do_agent(&ap, l);
			break;
		case POL_QUOTA:
			ret = do_quota(&ap, l);
			break;
		case POL_BIND_CGROUP:
		case POL_BIND_PID:
			ret = do_bind(&ap, l);
			break;
		case POL_ACL:
		case POL_PEER:
			ret = do_acl(&ap, l);
			break;
		case POL_DMEM:
			ret = do_dmem(&ap, l);
			break;
		}
	}
	if (ret)
		fprintf(stderr, "apply: stopped at the error above%s\n",
			ap.dry || !ap.changes ? "; nothing was changed" :
			"; the changes listed before it were made");
	else if (!ap.changes)
		printf("apply: nothing to change: the ledger already matches %s%s\n", file,
		       ap.unchecked ? " (bindings not checkable in a dry run aside)" : "");
	else if (ap.dry)
		printf("apply --dry-run: %d change%s would be made; nothing was changed\n",
		       ap.changes, ap.changes == 1 ? "" : "s");
	else
		printf("apply: %d change%s made\n", ap.changes, ap.changes == 1 ? "" : "s");
out:
	gdlock_close(ap.g);
	free(ap.dev);
	free(ap.agent);
	policy_free(&p);
	return ret;
}
