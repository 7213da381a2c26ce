// SPDX-License-Identifier: GPL-2.0
/*
 * gpu-dma-lock-oci-hook: makes a container an agent of the ledger, and
 * retires it when the container is gone (docs/fleet.md).
 *
 *   gpu-dma-lock-oci-hook [--config FILE] [--alloc ID] createRuntime|poststop < state
 *
 *   gpu-dma-lock-oci-hook agent-name CONTAINER-ID
 *
 * The engine gives the container's state on stdin (OCI runtime spec:
 * id, pid, bundle, annotations); the bundle's config.json says which
 * GPUs it gets (ocigpu.h: device nodes, bind mounts, device rules,
 * NVIDIA's runtime, CDI requests).  createRuntime: a container that gets
 * a GPU gets the agent ctr-<hash of its id>, with its quota on those GPUs
 * and 0 on the others, bound to its own cgroup; a container without a GPU
 * gets nothing, annotated or not.  Everything in config.json and the
 * annotations is the tenant's: anything unexpected stops the container
 * with one line on stderr, never lets it run unaccounted.  poststop: the
 * agent is retired (absent: fine).  With --alloc ID (a Kubernetes
 * allocation's CDI device, written by the device plugin) the quota is the
 * allocation's grant, never an annotation, and the allocation must be
 * this pod's (ocialloc.h).  Both stages are idempotent: engines
 * run poststop twice, late, or never, and `gpu-dma-lock-ctl gc` collects
 * what poststop missed.
 *
 * Hooks run with only the hook's own environment (no PATH), as root in
 * the host's namespaces, under a timeout: nothing here execs, and every
 * read is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "jread.h"
#include "ocialloc.h"
#include "ocigpu.h"
#include "ocipolicy.h"

#define PROG "gpu-dma-lock-oci-hook"
#define MAX_STATE (1 << 20)
#define MAX_CONFIG (16 << 20)
#define CGROUP_ROOT "/sys/fs/cgroup"

struct hook {
	const char *conf_path;		/* --config: instead of /etc's */
	const char *dev_path;		/* GDL_DEVICE_PATH */
	struct jr_node *state, *config;
	const char *config_err;		/* why config.json could not be read */
	const char *gpus_why;		/* how it gets a GPU, for messages */
	const char *id;
	const char *alloc;		/* --alloc: the Kubernetes allocation */
	long pid;
	char name[GDL_NAME_LEN];
	struct oci_conf conf;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One line on stderr; the container does not start.  Engines differ in
 * what they do with a hook's stderr (podman 4.3 with crun drops it and
 * says only "error executing hook ... (exit code: 1)"; crun writes it to
 * the file named by the annotation run.oci.hooks.stderr), so the same
 * line goes to syslog (the journal), where an admin finds it.
 */
static int fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s\n", msg);
	openlog(PROG, LOG_PID, LOG_DAEMON);
	syslog(LOG_ERR, "%s", msg);
	closelog();
	return 1;
}

/* Up to @max bytes of @fd, NUL-terminated; NULL with errno set. */
static char *read_all(int fd, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *nb;
	ssize_t r;

	while (buf) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				break;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			buf[n] = 0;
			*len = n;
			return buf;
		}
		n += r;
	}
	free(buf);
	return NULL;
}

static char *read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;
	int e;

	if (fd < 0)
		return NULL;
	s = read_all(fd, max, len);
	e = errno;
	close(fd);
	errno = e;
	return s;
}

static int load_conf(struct hook *h)
{
	const char *files[] = { OCI_CONF_PACKAGED,
				h->conf_path ? h->conf_path : OCI_CONF_ADMIN };
	char err[OCI_ERR_LEN], *text;
	size_t len;
	unsigned int i;
	int ret;

	oci_conf_defaults(&h->conf);
	for (i = 0; i < 2; i++) {
		text = read_file(files[i], 1 << 16, &len);
		if (!text) {
			if (errno == ENOENT)
				continue;
			return fail("cannot read %s: %s", files[i], strerror(errno));
		}
		ret = oci_conf_parse(&h->conf, text, files[i], err, sizeof(err));
		free(text);
		if (ret)
			return fail("%s", err);
	}
	return 0;
}

static int load_state(struct hook *h)
{
	const struct jr_node *pid;
	const char *err = NULL;
	size_t len;
	char *text;

	text = read_all(0, MAX_STATE, &len);
	if (!text)
		return fail("cannot read the container state on stdin: %s",
			    strerror(errno));
	h->state = jr_parse(text, len, &err);
	free(text);
	if (!h->state || h->state->type != JR_OBJ)
		return fail("the container state on stdin is not a JSON object (%s)",
			    err ? err : "not an object");
	h->id = jr_str(h->state, "id");
	if (!h->id || oci_agent_name(h->id, h->name))
		return fail("the container state has no \"id\"");
	pid = jr_get(h->state, "pid");
	h->pid = pid && pid->type == JR_NUM ? strtol(pid->str, NULL, 10) : 0;
	return 0;
}

/*
 * The bundle's config.json.  What cannot be read or parsed (missing,
 * over 16 MiB, nested too deeply, a NUL in a string, which crun would cut
 * short) is remembered in config_err: the caller refuses the container
 * unless the admin chose unannotated = ignore.
 */
static void load_config(struct hook *h)
{
	static char why[4200];
	const char *bundle = jr_str(h->state, "bundle"), *err = NULL;
	char path[4096];
	size_t len;
	char *text;

	if (!bundle || snprintf(path, sizeof(path), "%s/config.json", bundle) >=
	    (int)sizeof(path)) {
		h->config_err = "the container state names no usable \"bundle\"";
		return;
	}
	text = read_file(path, MAX_CONFIG, &len);
	if (!text) {
		snprintf(why, sizeof(why), "cannot read %s: %s", path,
			 errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		h->config_err = why;
		return;
	}
	h->config = jr_parse(text, len, &err);
	free(text);
	if (!h->config || h->config->type != JR_OBJ) {
		snprintf(why, sizeof(why), "%s is not a JSON object the hook can read (%s)",
			 path, err ? err : "not an object");
		h->config_err = why;
	}
}

/*
 * An annotation: the state's annotations (the spec's), then config.json's,
 * then the JSON map CRI-O keeps of the Kubernetes annotations under
 * io.kubernetes.cri-o.Annotations (@crio, parsed by the caller).
 */
static const char *find_annotation(struct hook *h, const char *key,
				   const struct jr_node *crio)
{
	const char *v;

	v = jr_str(jr_get(h->state, "annotations"), key);
	if (!v)
		v = jr_str(jr_get(h->config, "annotations"), key);
	return v ? v : jr_str(crio, key);
}

/*
 * CRI-O's map of the pod's annotations, when there is one: NULL and 0
 * when there is none, 1 (refused, the line written) when it is no JSON
 * object the hook can read, since a quota in it would be missed.
 */
static int load_crio_map(struct hook *h, struct jr_node **crio)
{
	const char *kube, *err = NULL;

	*crio = NULL;
	kube = jr_str(jr_get(h->config, "annotations"),
		      "io.kubernetes.cri-o.Annotations");
	if (!kube)
		return 0;
	*crio = jr_parse(kube, strlen(kube), &err);
	if (*crio && (*crio)->type == JR_OBJ)
		return 0;
	return fail("%s: io.kubernetes.cri-o.Annotations is no JSON object the hook can read (%s), so its quota cannot be known; refused",
		    h->name, err ? err : "not an object");
}

static int eperm_msg(struct hook *h, const char *what);

static int open_ledger(struct hook *h, struct gdlock **g)
{
	int ret = gdlock_open_path(h->dev_path, g);

	if (ret == -ENOENT)
		return fail("%s: %s is missing: the gpu_dma_lock module is not loaded, so the container would run unaccounted; refused (load it: gpu-dma-lock-ctl load)",
			    h->name, h->dev_path);
	if (ret == -EACCES || ret == -EPERM)
		return eperm_msg(h, "opening " GDL_DEVICE_PATH);
	if (ret)
		return fail("%s: cannot open %s: %s", h->name, h->dev_path,
			    gdlock_strerror(ret));
	return 0;
}

static int eperm_msg(struct hook *h, const char *what)
{
	return fail("%s: %s: not permitted: the hook needs root with CAP_SYS_ADMIN; a rootless engine (podman without sudo, rootless Docker or containerd) cannot create ledger agents, so this container was refused; run it with the rootful engine",
		    h->name, what);
}

/*
 * The fleet rules that refuse a GPU container before anything is made:
 * 0, or 1 with the line written.
 */
static int check_rules(struct hook *h, const struct oci_gpus *gpus,
		       const char *peer)
{
	if (oci_admin_capable(h->config, "") &&
	    h->conf.admin_containers == OCI_REFUSE)
		return fail("%s: gets a GPU (%s) and holds CAP_SYS_ADMIN in the host's user namespace (--privileged, --cap-add SYS_ADMIN, or no capabilities given), which would make it an admin of the ledger that can raise its own quota; refused (admin_containers = refuse in %s)",
			    h->name, gpus->why, OCI_CONF_ADMIN);
	if (peer && h->conf.peer_annotation == OCI_REFUSE)
		return fail("%s: asks for GPU peer rights through the %s annotation, which the fleet rules do not honour; refused (peer_annotation = refuse in %s)",
			    h->name, OCI_ANNOT_PEER, OCI_CONF_ADMIN);
	if (!oci_interposed(h->config, "") &&
	    h->conf.uninterposed == OCI_REFUSE)
		return fail("%s: gets a GPU (%s) without the gpu-dma-lock CUDA interposer (the read-only /etc/ld.so.preload of the CDI device gpu-dma-lock.io/agent=default), so nothing would hold it to a quota; refused (uninterposed = refuse in %s)",
			    h->name, gpus->why, OCI_CONF_ADMIN);
	return 0;
}

/*
 * The allocation is this pod's: the pod's UID as the CRI runtime sets it
 * (containerd's io.kubernetes.cri.sandbox-uid, CRI-O's io.kubernetes.pod.uid:
 * each written after the pod's own annotations, and checked against the
 * kubelet's pod cgroup the container is in; oci_pod_uid()), bound at the
 * first container, checked at every later one.  The pod's cgroup (the
 * container's parent) goes with it, for gc.
 */
static int claim_alloc(struct hook *h, const char *cgpath)
{
	char err[OCI_ERR_LEN], podcg[4200], *slash;
	const char *uid;

	if (oci_pod_uid(jr_get(h->state, "annotations"), cgpath, &uid, err,
			sizeof(err)))
		return fail("%s: carries Kubernetes allocation %s but %s; an allocation is a pod's, so it is refused",
			    h->name, h->alloc, err);
	snprintf(podcg, sizeof(podcg), "%s", cgpath);
	slash = strrchr(podcg, '/');
	if (slash && slash != podcg)
		*slash = 0;
	if (oci_alloc_claim(OCI_ALLOC_DIR, h->alloc, uid, podcg, err, sizeof(err)))
		return fail("%s: %s", h->name, err);
	return 0;
}

/* The container's own cgroup, as a path under CGROUP_ROOT into @path. */
static int own_cgroup(struct hook *h, char *path, size_t len)
{
	char err[OCI_ERR_LEN], cg[4096], proc[64], *text;
	const char *want;
	size_t l;
	int ret;

	if (h->pid <= 0)
		return fail("%s: the container state has no \"pid\": is this hook registered for createRuntime?",
			    h->name);
	snprintf(proc, sizeof(proc), "/proc/%ld/cgroup", h->pid);
	text = read_file(proc, 1 << 16, &l);
	if (!text)
		return fail("%s: cannot read %s: %s", h->name, proc, strerror(errno));
	want = jr_str(jr_get(h->config, "linux"), "cgroupsPath");
	ret = oci_cgroup_path(text, want, h->id, cg, sizeof(cg), err, sizeof(err));
	free(text);
	if (ret)
		return fail("%s: %s; gpu-dma-lock binds a container by its own cgroup v2 group, so it is refused",
			    h->name, err);
	snprintf(path, len, "%s%s", CGROUP_ROOT, cg);
	return 0;
}

/*
 * Per ledger device: the annotation's quota on the GPUs the container
 * gets (@given, bits of @devs), 0 on every other.  A quota naming a GPU
 * it does not get is refused.
 */
static int device_quotas(struct hook *h, const struct oci_quota *q, int n,
			 const struct gdl_device_info *devs, int nd,
			 uint64_t given, struct gdlock_ensure_quota *eq)
{
	struct gdlock_ensure_quota one;
	char err[OCI_ERR_LEN];
	int i, k, r;

	for (i = 0; i < nd; i++) {
		memset(&eq[i], 0, sizeof(eq[i]));
		eq[i].device = devs[i].index;
	}
	/* Every-device entries first, so per-device ones override them. */
	for (k = 0; k < n; k++) {
		if (!q[k].all)
			continue;
		for (i = 0; i < nd; i++)
			if (given >> i & 1)
				eq[i].bytes = q[k].bytes;
	}
	for (k = 0; k < n; k++) {
		if (q[k].all)
			continue;
		r = oci_quota_resolve(&q[k], 1, devs, nd, &one, err, sizeof(err));
		if (r < 0)
			return fail("%s: %s", h->name, err);
		for (i = 0; i < nd && devs[i].index != one.device; i++)
			;
		if (i == nd || !(given >> i & 1))
			return fail("%s: %s names device '%s', which the container does not get (%s); refused",
				    h->name, OCI_ANNOT_QUOTA, q[k].sel, h->gpus_why);
		eq[i].bytes = one.bytes;
	}
	return 0;
}

static int create_runtime(struct hook *h)
{
	struct gdlock_ensure_quota eq[GDL_MAX_DEVICES];
	struct gdl_device_info devs[GDL_MAX_DEVICES];
	struct gdl_acl_entry peers[OCI_MAX_PEERS];
	struct oci_quota q[OCI_MAX_QUOTAS];
	char err[OCI_ERR_LEN], path[4200], grant[1024];
	struct oci_conf qconf;
	struct jr_node *crio = NULL;
	struct gdlock *g = NULL;
	const char *annot, *peer;
	struct oci_gpus gpus;
	struct oci_host host;
	int n, nd, np = 0, i, ret = 1, nalloc;
	uint64_t given;
	uint32_t id = 0;

	load_config(h);
	if (h->config_err) {
		if (h->conf.unannotated == OCI_UNANNOTATED_IGNORE)
			return 0;	/* the admin's choice: not ours */
		return fail("%s: %s; the hook cannot tell whether it gets a GPU, so it is refused",
			    h->name, h->config_err);
	}
	oci_host_init(&host, "");
	if (!oci_gpus_find(h->config, jr_get(h->state, "annotations"), &host,
			   &gpus))
		return 0;	/* no GPU: no agent, annotated or not */
	h->gpus_why = gpus.why;
	if (load_crio_map(h, &crio))
		goto out;
	nalloc = oci_alloc_count(h->config);
	if (!h->alloc && nalloc) {
		/* The allocation's own hook run decides, from its grant. */
		ret = 0;
		goto out;
	}
	if (h->alloc) {
		if (nalloc != 1) {
			fail("%s: carries %d Kubernetes allocations (CDI devices gpu-dma-lock.io/agent=alloc-*), and a container gets its one; refused",
			     h->name, nalloc);
			goto out;
		}
		if (oci_alloc_grant(OCI_ALLOC_DIR, h->alloc, grant, sizeof(grant),
				    err, sizeof(err))) {
			fail("%s: %s; refused", h->name, err);
			goto out;
		}
		/* The grant is the admin's (the plugin's): no max_quota. */
		qconf = h->conf;
		qconf.max_quota = GDL_QUOTA_UNLIMITED;
		annot = grant;
	} else {
		qconf = h->conf;
		annot = find_annotation(h, OCI_ANNOT_QUOTA, crio);
	}
	peer = find_annotation(h, OCI_ANNOT_PEER, crio);
	if (!annot && h->conf.unannotated == OCI_UNANNOTATED_IGNORE) {
		ret = 0;
		goto out;
	}
	if (check_rules(h, &gpus, peer))
		goto out;
	if (annot) {
		n = oci_quota_parse(annot, &qconf, q, OCI_MAX_QUOTAS, err,
				    sizeof(err));
		if (n < 0) {
			fail("%s: %s", h->name, err);
			goto out;
		}
	} else if (h->conf.unannotated == OCI_UNANNOTATED_REFUSE) {
		fail("%s: the container gets a GPU (%s) but has no %s annotation, and the fleet rules (unannotated = refuse in %s) refuse that",
		     h->name, gpus.why, OCI_ANNOT_QUOTA, OCI_CONF_ADMIN);
		goto out;
	} else {
		memset(q, 0, sizeof(q[0]));
		q[0].all = 1;
		q[0].bytes = h->conf.default_quota;
		n = 1;
	}
	/* No module: refused, never run unaccounted. */
	if (open_ledger(h, &g) || own_cgroup(h, path, sizeof(path)) ||
	    (h->alloc && claim_alloc(h, path)))
		goto out;
	nd = gdlock_device_list(g, devs, GDL_MAX_DEVICES);
	if (nd < 0) {
		fail("%s: cannot list the ledger's devices: %s", h->name,
		     gdlock_strerror(nd));
		goto out;
	}
	if (nd > GDL_MAX_DEVICES)
		nd = GDL_MAX_DEVICES;
	given = oci_gpus_resolve(&gpus, &host, devs, nd);
	if (device_quotas(h, q, n, devs, nd, given, eq))
		goto out;
	/* Peer rights: resolved before anything changes. */
	if (peer) {
		np = oci_peer_parse(peer, devs, nd, peers, OCI_MAX_PEERS, err,
				    sizeof(err));
		if (np < 0) {
			fail("%s: %s", h->name, err);
			goto out;
		}
	}
	ret = gdlock_agent_ensure(g, h->name, eq, (unsigned int)nd, path, &id);
	/* Not an admin: EPERM, or ENOLINK (unbound, and default_policy=deny). */
	if (ret == -EPERM || ret == -ENOLINK) {
		ret = eperm_msg(h, "creating its agent");
		goto out;
	}
	if (ret == -EBUSY) {
		ret = fail("%s: the agent %s already exists, bound to another live cgroup (another container's); refused",
			   h->name, h->name);
		goto out;
	}
	if (ret) {
		ret = fail("%s: cannot make the agent and bind cgroup %s: %s",
			   h->name, path, gdlock_strerror(ret));
		goto out;
	}
	/* Display only (ctl agent list, stats, watch): a failure is no refusal. */
	oci_labels_write(OCI_LABEL_DIR, h->name, jr_get(h->state, "annotations"));
	for (i = 0; i < np; i++)
		peers[i].agent_id = id;
	/* The kernel drops exact duplicates: a second run changes nothing. */
	ret = np ? gdlock_acl_grant(g, peers, (unsigned int)np) : 0;
	if (ret) {
		fail("%s: cannot grant the peer rights of %s: %s", h->name,
		     OCI_ANNOT_PEER, gdlock_strerror(ret));
		gdlock_agent_retire(g, h->name);
		ret = 1;
	}
out:
	gdlock_close(g);
	jr_free(crio);
	return ret;
}

static int poststop(struct hook *h)
{
	struct gdlock *g = NULL;
	int ret;

	ret = gdlock_open_path(h->dev_path, &g);
	/* No module, no agent: nothing to retire. */
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return fail("%s: cannot open %s: %s", h->name, h->dev_path,
			    gdlock_strerror(ret));
	ret = gdlock_agent_retire(g, h->name);
	gdlock_close(g);
	if (!ret || ret == -ENOENT)
		oci_labels_remove(OCI_LABEL_DIR, h->name);
	if (ret == -EPERM || ret == -ENOLINK)
		return eperm_msg(h, "retiring its agent");
	if (ret)
		return fail("%s: cannot retire the agent: %s (gpu-dma-lock-ctl gc collects it later)",
			    h->name, gdlock_strerror(ret));
	return 0;
}

static int usage(void)
{
	fputs("usage: " PROG " [--config FILE] [--alloc ID] createRuntime|poststop < container-state.json\n"
	      "       " PROG " agent-name CONTAINER-ID\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct hook h = { .dev_path = GDL_DEVICE_PATH };
	const char *stage = NULL;
	int i, ret;

	/* Which agent is this container's (for an admin, or a test). */
	if (argc == 3 && !strcmp(argv[1], "agent-name")) {
		if (oci_agent_name(argv[2], h.name))
			return usage();
		printf("%s\n", h.name);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			h.conf_path = argv[++i];
		else if (!strcmp(argv[i], "--alloc") && i + 1 < argc)
			h.alloc = argv[++i];
		else if (!strcmp(argv[i], "--help"))
			return usage();
		else if (!stage)
			stage = argv[i];
		else
			return usage();
	}
	if (!stage)
		return usage();
	if (strcmp(stage, "createRuntime") && strcmp(stage, "prestart") &&
	    strcmp(stage, "poststop"))
		return fail("unknown stage '%s': expected createRuntime or poststop",
			    stage);
	if (load_state(&h)) {
		jr_free(h.state);
		return 1;
	}
	if (!strcmp(stage, "poststop"))
		ret = poststop(&h);
	else
		ret = load_conf(&h) ? 1 : create_runtime(&h);
	jr_free(h.state);
	jr_free(h.config);
	return ret;
}
