// SPDX-License-Identifier: GPL-2.0
/*
 * gpu-dma-lock-oci-hook: makes a container an agent of the ledger, and
 * retires it when the container is gone (docs/fleet.md).
 *
 *   gpu-dma-lock-oci-hook [--config FILE] createRuntime|poststop < state
 *
 * The engine gives the container's state on stdin (OCI runtime spec:
 * id, pid, bundle, annotations); the bundle's config.json says which
 * devices it gets.  createRuntime: a container with the quota annotation
 * or a GPU device node gets the agent ctr-<12 hex of its id>, with its
 * quota, bound to its cgroup; anything wrong stops it with one line on
 * stderr.  poststop: the agent is retired (absent: fine).  Both stages
 * are idempotent: engines run poststop twice, late, or never, and
 * `gpu-dma-lock-ctl gc` collects what poststop missed.
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
#include "ocipolicy.h"

#define PROG "gpu-dma-lock-oci-hook"
#define MAX_STATE (1 << 20)
#define MAX_CONFIG (16 << 20)
#define CGROUP_ROOT "/sys/fs/cgroup"

struct hook {
	const char *conf_path;		/* --config: instead of /etc's */
	const char *dev_path;		/* GDL_DEVICE_PATH */
	struct jr_node *state, *config;
	const char *id;
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

/* The bundle's config.json; absent or unreadable is an error only if needed. */
static void load_config(struct hook *h)
{
	const char *bundle = jr_str(h->state, "bundle");
	char path[4096];
	size_t len;
	char *text;

	if (!bundle || snprintf(path, sizeof(path), "%s/config.json", bundle) >=
	    (int)sizeof(path))
		return;
	text = read_file(path, MAX_CONFIG, &len);
	if (!text)
		return;
	h->config = jr_parse(text, len, NULL);
	free(text);
}

/*
 * The quota annotation: the state's annotations (the spec's), then
 * config.json's, then the JSON map CRI-O keeps of the Kubernetes
 * annotations under io.kubernetes.cri-o.Annotations.
 */
static const char *find_annotation(struct hook *h, const char *key,
				   struct jr_node **crio)
{
	const struct jr_node *a;
	const char *v, *kube;

	v = jr_str(jr_get(h->state, "annotations"), key);
	if (v)
		return v;
	a = jr_get(h->config, "annotations");
	v = jr_str(a, key);
	if (v)
		return v;
	kube = jr_str(a, "io.kubernetes.cri-o.Annotations");
	if (!kube)
		return NULL;
	/* Parsed once, kept (and freed) by the caller. */
	if (!*crio)
		*crio = jr_parse(kube, strlen(kube), NULL);
	return jr_str(*crio, key);
}

/* The first GPU device node config.json gives the container, or NULL. */
static const char *gpu_device(struct hook *h)
{
	const struct jr_node *d;

	d = jr_get(jr_get(h->config, "linux"), "devices");
	if (!d || d->type != JR_ARR)
		return NULL;
	for (d = d->child; d; d = d->next)
		if (oci_is_gpu_device(jr_str(d, "path")))
			return jr_str(d, "path");
	return NULL;
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

static int create_runtime(struct hook *h)
{
	struct gdlock_ensure_quota eq[OCI_MAX_QUOTAS];
	struct gdl_device_info devs[GDL_MAX_DEVICES];
	struct gdl_acl_entry peers[OCI_MAX_PEERS];
	struct oci_quota q[OCI_MAX_QUOTAS];
	char err[OCI_ERR_LEN], cg[4096], path[4200], *text;
	struct jr_node *crio = NULL;
	struct gdlock *g = NULL;
	const char *annot, *gpu, *peer;
	int n, nd, np = 0, i, ret = 1;
	uint32_t id = 0;
	size_t len;

	load_config(h);
	annot = find_annotation(h, OCI_ANNOT_QUOTA, &crio);
	gpu = gpu_device(h);
	if (!annot && !gpu) {
		ret = 0;	/* no GPU, nothing asked: not ours */
		goto out;
	}
	if (annot) {
		n = oci_quota_parse(annot, &h->conf, q, OCI_MAX_QUOTAS, err,
				    sizeof(err));
		if (n < 0) {
			fail("%s: %s", h->name, err);
			goto out;
		}
	} else if (h->conf.unannotated == OCI_UNANNOTATED_IGNORE) {
		ret = 0;
		goto out;
	} else if (h->conf.unannotated == OCI_UNANNOTATED_REFUSE) {
		fail("%s: the container gets %s but has no %s annotation, and the fleet rules (unannotated = refuse in %s) refuse that",
		     h->name, gpu, OCI_ANNOT_QUOTA, OCI_CONF_ADMIN);
		goto out;
	} else {
		memset(q, 0, sizeof(q[0]));
		q[0].all = 1;
		q[0].bytes = h->conf.default_quota;
		n = 1;
	}
	/* No module: refused, never run unaccounted. */
	if (open_ledger(h, &g))
		goto out;
	if (h->pid <= 0) {
		fail("%s: the container state has no \"pid\": is this hook registered for createRuntime?",
		     h->name);
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%ld/cgroup", h->pid);
	text = read_file(path, 1 << 16, &len);
	if (!text) {
		fail("%s: cannot read %s: %s", h->name, path, strerror(errno));
		goto out;
	}
	ret = oci_cgroup_path(text, cg, sizeof(cg));
	free(text);
	if (ret) {
		fail("%s: process %ld is in no cgroup v2 group of its own (%s); gpu-dma-lock binds containers by cgroup v2",
		     h->name, h->pid, strerror(-ret));
		ret = 1;
		goto out;
	}
	ret = 1;
	nd = gdlock_device_list(g, devs, GDL_MAX_DEVICES);
	if (nd < 0) {
		fail("%s: cannot list the ledger's devices: %s", h->name,
		     gdlock_strerror(nd));
		goto out;
	}
	if (nd > GDL_MAX_DEVICES)
		nd = GDL_MAX_DEVICES;
	n = oci_quota_resolve(q, n, devs, nd, eq, err, sizeof(err));
	if (n < 0) {
		fail("%s: %s", h->name, err);
		goto out;
	}
	/* Peer rights: resolved before anything changes. */
	peer = find_annotation(h, OCI_ANNOT_PEER, &crio);
	if (peer) {
		np = oci_peer_parse(peer, devs, nd, peers, OCI_MAX_PEERS, err,
				    sizeof(err));
		if (np < 0) {
			fail("%s: %s", h->name, err);
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s%s", CGROUP_ROOT, cg);
	ret = gdlock_agent_ensure(g, h->name, eq, (unsigned int)n, path, &id);
	/* Not an admin: EPERM, or ENOLINK (unbound, and default_policy=deny). */
	if (ret == -EPERM || ret == -ENOLINK) {
		ret = eperm_msg(h, "creating its agent");
		goto out;
	}
	if (ret) {
		ret = fail("%s: cannot make the agent and bind cgroup %s: %s",
			   h->name, path, gdlock_strerror(ret));
		goto out;
	}
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
	if (ret == -EPERM || ret == -ENOLINK)
		return eperm_msg(h, "retiring its agent");
	if (ret)
		return fail("%s: cannot retire the agent: %s (gpu-dma-lock-ctl gc collects it later)",
			    h->name, gdlock_strerror(ret));
	return 0;
}

static int usage(void)
{
	fputs("usage: " PROG " [--config FILE] createRuntime|poststop < container-state.json\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct hook h = { .dev_path = GDL_DEVICE_PATH };
	const char *stage = NULL;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			h.conf_path = argv[++i];
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
