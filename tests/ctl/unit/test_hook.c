// SPDX-License-Identifier: GPL-2.0
/*
 * The OCI hook as a tenant meets it: the built binary fed config.json
 * shapes that a container author, an image author or a pod spec controls,
 * on the host, where no module is loaded.  A container the hook knows to
 * get a GPU must then be refused (by a fleet rule, or because the ledger
 * is absent); one that gets no GPU must be left alone.  GDL_TEST_HOOK
 * names another binary to try (an older build, to see these fail there).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

static char dir[64];

/* The CDI spec's mounts: the interposer, carried read-only. */
#define INTERPOSED "\"mounts\":[{\"destination\":\"/etc/ld.so.preload\",\"type\":\"bind\",\"source\":\"%s/preload\",\"options\":[\"ro\",\"bind\"]}," \
	"{\"destination\":\"/usr/lib/gpu-dma-lock/libgpudmalock-cuda.so\",\"type\":\"bind\",\"source\":\"%s/preload\",\"options\":[\"ro\",\"bind\"]}]"
/* An ordinary unprivileged container: its own user namespace. */
#define USERNS "\"process\":{\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"]}}," \
	"\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"cgroupsPath\":\"/x/ctr-1\"%s}"

static int write_file(const char *name, const char *text, size_t len)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, text, len) == (ssize_t)len;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Runs the hook's createRuntime on @config (written as the bundle's
 * config.json, @len bytes; 0: strlen) with oci.conf @conf and the state's
 * @annots; its stderr into @err.  Returns its exit status.
 */
static int hook(const char *conf, const char *config, size_t len,
		const char *annots, char *err, size_t errlen)
{
	const char *bin = getenv("GDL_TEST_HOOK") ? getenv("GDL_TEST_HOOK") : HOOK_BIN;
	char state[512], cpath[128], epath[128];
	int in[2], status = -1, fd;
	ssize_t n;
	pid_t pid;

	snprintf(state, sizeof(state),
		 "{\"ociVersion\":\"1.0.2\",\"id\":\"ctr-1\",\"status\":\"created\",\"pid\":%d,\"bundle\":\"%s\",\"annotations\":%s}",
		 getpid(), dir, annots ? annots : "{}");
	snprintf(cpath, sizeof(cpath), "%s/oci.conf", dir);
	snprintf(epath, sizeof(epath), "%s/stderr", dir);
	if (write_file("config.json", config, len ? len : strlen(config)) ||
	    write_file("oci.conf", conf, strlen(conf)) || pipe(in))
		return -1;
	pid = fork();
	if (!pid) {
		fd = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(in[0], 0);
		dup2(fd, 2);
		close(in[1]);
		execl(bin, "gpu-dma-lock-oci-hook", "--config", cpath,
		      "createRuntime", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	n = write(in[1], state, strlen(state));
	close(in[1]);
	if (pid < 0 || n < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	fd = open(epath, O_RDONLY);
	n = fd >= 0 ? read(fd, err, errlen - 1) : -1;
	err[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Refused (exit 1) with @why in its line. */
static void refused(const char *what, const char *conf, const char *config,
		    const char *annots, const char *why)
{
	char err[2048];
	int rc = hook(conf, config, 0, annots, err, sizeof(err));

	if (rc != 1 || !strstr(err, why)) {
		fprintf(stderr, "\n  %s: exit %d, wanted 1 and '%s'; stderr: %s", what,
			rc, why, err);
		CU_FAIL(what);
	}
}

static void left_alone(const char *what, const char *conf, const char *config,
		       const char *annots)
{
	char err[2048];
	int rc = hook(conf, config, 0, annots, err, sizeof(err));

	if (rc != 0 || err[0]) {
		fprintf(stderr, "\n  %s: exit %d, wanted 0 and silence; stderr: %s",
			what, rc, err);
		CU_FAIL(what);
	}
}

/* A config.json: @body then the interposer's mounts. */
static const char *cfg(const char *body, int interposed)
{
	static char buf[4096];
	char mounts[1024];

	snprintf(mounts, sizeof(mounts), INTERPOSED, dir, dir);
	snprintf(buf, sizeof(buf), "{%s%s%s}", body,
		 interposed && *body ? "," : "", interposed ? mounts : "");
	return buf;
}

static int setup(void)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/gdl-hook-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/nv", dir);
	if (write_file("preload", "/usr/lib/gpu-dma-lock/libgpudmalock-cuda.so\n", 44))
		return -1;
	/* A GPU node of the host's, bind-mounted in. */
	return mknod(path, S_IFCHR | 0600, makedev(195, 0));
}

static int teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

#define ALLOW "uninterposed = allow\n"
#define ABSENT "module is not loaded"
#define NV_DEV "\"devices\":[{\"path\":\"/dev/nvidia0\",\"type\":\"c\",\"major\":195,\"minor\":0}]"

/* Every way in is seen: the ledger is asked, and is absent. */
static void test_ways_in(void)
{
	char body[1024];

	snprintf(body, sizeof(body), USERNS, "," NV_DEV);
	refused("a GPU device entry", ALLOW, cfg(body, 1), NULL, ABSENT);
	snprintf(body, sizeof(body), USERNS ",\"process\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=all\"],"
		 "\"capabilities\":{}}", "");
	refused("NVIDIA_VISIBLE_DEVICES=all (docker --gpus)", ALLOW, cfg(body, 1), NULL, ABSENT);
	snprintf(body, sizeof(body), USERNS ",\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/nvidia-container-runtime-hook\"}]}", "");
	refused("NVIDIA's prestart hook", ALLOW, cfg(body, 1), NULL, ABSENT);
	snprintf(body, sizeof(body), USERNS ",\"mounts\":[{\"destination\":\"/dev/nvidia0\",\"type\":\"bind\",\"source\":\"%s/nv\"}]",
		 "", dir);
	refused("a bind-mounted GPU node", ALLOW, cfg(body, 0), NULL, ABSENT);
	snprintf(body, sizeof(body), USERNS ",\"mounts\":[{\"destination\":\"/dev\",\"type\":\"devtmpfs\",\"source\":\"devtmpfs\"}]", "");
	refused("a devtmpfs mount", ALLOW, cfg(body, 0), NULL, ABSENT);
	snprintf(body, sizeof(body), USERNS, ",\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
		 "{\"allow\":true,\"type\":\"c\",\"major\":195,\"access\":\"rw\"}]}");
	refused("a device rule allowing major 195", ALLOW, cfg(body, 1), NULL, ABSENT);
	snprintf(body, sizeof(body), USERNS, "");
	refused("a CDI request for nvidia.com/gpu", ALLOW, cfg(body, 1),
		"{\"cdi.k8s.io/gpu\":\"nvidia.com/gpu=0\"}", ABSENT);
}

/* Input the hook cannot read: refused, not taken for "no GPU". */
static void test_unreadable(void)
{
	char body[1024], err[2048], *big;
	size_t n = (16 << 20) + 64;
	int rc;

	snprintf(body, sizeof(body), USERNS, ",\"devices\":[{\"path\":\"/dev/nvidia0\\u0000x\",\"type\":\"c\",\"major\":195,\"minor\":0}]");
	refused("a NUL in a string (crun would cut it there)", ALLOW, cfg(body, 1),
		NULL, "cannot tell whether it gets a GPU");
	big = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, ' ', n);
	snprintf(body, sizeof(body), USERNS, "," NV_DEV);
	memcpy(big, cfg(body, 1), strlen(cfg(body, 1)));
	rc = hook(ALLOW, big, n, NULL, err, sizeof(err));
	if (rc != 1 || !strstr(err, "larger than 16 MiB"))
		CU_FAIL("a config.json over 16 MiB");
	memset(big, '[', 100);
	memset(big + 100, ']', 100);
	rc = hook(ALLOW, big, 200, NULL, err, sizeof(err));
	if (rc != 1 || !strstr(err, "nested too deeply"))
		CU_FAIL("a config.json nested too deeply");
	free(big);
	/* A raw NUL after a number (strchr() matched it). */
	rc = hook(ALLOW, "{\"a\":1\0}", 8, NULL, err, sizeof(err));
	if (rc != 1 || !strstr(err, "cannot tell"))
		CU_FAIL("a NUL after a number");
	/* CRI-O's map of the pod's annotations, not JSON: its quota unknown. */
	snprintf(body, sizeof(body), USERNS ",\"annotations\":{\"io.kubernetes.cri-o.Annotations\":\"{\\\"gpu-dma-lock.io/quota\\\":\\\"1G\\\",}\"}",
		 "," NV_DEV);
	refused("CRI-O's annotation map unreadable", ALLOW, cfg(body, 1), NULL,
		"io.kubernetes.cri-o.Annotations is no JSON object");
	/* The admin who chose unannotated = ignore leaves it alone. */
	left_alone("unreadable, unannotated = ignore", ALLOW "unannotated = ignore\n",
		   "{\"a\":1,}", NULL);
}

static void test_limits(void)
{
	char body[1024];
	const char *q41 = "{\"gpu-dma-lock.io/quota\":\"41G\"}";

	snprintf(body, sizeof(body), USERNS, "," NV_DEV);
	/* The packaged max_quota (no /etc file): 40G, never unlimited. */
	refused("quota=unlimited under the packaged rules", "",
		cfg(body, 1), "{\"gpu-dma-lock.io/quota\":\"unlimited\"}",
		"over the fleet maximum 40G");
	refused("quota=41G over the packaged maximum", "", cfg(body, 1), q41,
		"over the fleet maximum 40G");
	refused("...also from config.json's annotations", "",
		cfg("\"annotations\":{\"gpu-dma-lock.io/quota\":\"unlimited\"},"
		    "\"linux\":{\"namespaces\":[{\"type\":\"user\"}]," NV_DEV "},"
		    "\"process\":{\"capabilities\":{}}", 1),
		NULL, "over the fleet maximum");
	refused("max_quota = unlimited in the admin's file: asked for, allowed",
		"max_quota = unlimited\n", cfg(body, 1),
		"{\"gpu-dma-lock.io/quota\":\"unlimited\"}", ABSENT);
	refused("the peer annotation, off by default", "", cfg(body, 1),
		"{\"gpu-dma-lock.io/peer\":\"0<>1\"}", "peer_annotation = refuse");
	refused("the peer annotation allowed: asked for", "peer_annotation = allow\n",
		cfg(body, 1), "{\"gpu-dma-lock.io/peer\":\"0<>1\"}", ABSENT);
	refused("a GPU without the interposer", "", cfg(body, 0), NULL,
		"uninterposed = refuse");
	refused("the interposer carried: asked for", "", cfg(body, 1), NULL, ABSENT);
}

static void test_not_ours(void)
{
	char body[1024];

	snprintf(body, sizeof(body), USERNS, "");
	left_alone("a sidecar: annotated, no GPU", "", cfg(body, 1),
		   "{\"gpu-dma-lock.io/quota\":\"1G\"}");
	left_alone("a container with /dev/null and nvidiactl only", "",
		   "{\"linux\":{\"devices\":[{\"path\":\"/dev/nvidiactl\",\"type\":\"c\",\"major\":195,\"minor\":255}]}}",
		   NULL);
	left_alone("NVIDIA_VISIBLE_DEVICES=void", "",
		   "{\"process\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=void\"]}}", NULL);
}

static void test_admins(void)
{
	static const char *const caps[] = {
		/* --privileged: every capability, no user namespace */
		"\"process\":{\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_SYS_ADMIN\"],\"effective\":[\"CAP_SYS_ADMIN\"]}}",
		/* --cap-add SYS_ADMIN */
		"\"process\":{\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"]}}",
		/* no capabilities at all: the runtime keeps root's */
		"\"process\":{\"user\":{\"uid\":0}}",
	};
	char body[1024];
	unsigned int i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		snprintf(body, sizeof(body), "%s,\"linux\":{" NV_DEV "}", caps[i]);
		refused(caps[i], "", cfg(body, 1), NULL, "admin_containers = refuse");
		refused(caps[i], "admin_containers = allow\n", cfg(body, 1), NULL, ABSENT);
	}
	/* CAP_SYS_ADMIN in its own user namespace is no admin's. */
	snprintf(body, sizeof(body), "%s,\"linux\":{\"namespaces\":[{\"type\":\"user\"}]," NV_DEV "}",
		 caps[0]);
	refused("CAP_SYS_ADMIN in a user namespace", "", cfg(body, 1), NULL, ABSENT);
}

int add_hook_tests(void)
{
	CU_pSuite s = CU_add_suite("OCI hook fed what a tenant controls", setup,
				   teardown);

	if (!s ||
	    !CU_add_test(s, "every way a container gets a GPU is seen", test_ways_in) ||
	    !CU_add_test(s, "config.json it cannot read: refused", test_unreadable) ||
	    !CU_add_test(s, "limits are the admin's", test_limits) ||
	    !CU_add_test(s, "no GPU: left alone, annotated or not", test_not_ours) ||
	    !CU_add_test(s, "admin-capable GPU containers", test_admins))
		return -1;
	return 0;
}
