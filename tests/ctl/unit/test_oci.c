// SPDX-License-Identifier: GPL-2.0
/*
 * The OCI hook's pure parts (utils/oci): its JSON reader, the fleet rules
 * of oci.conf, the quota annotation, agent names, the cgroup to bind and
 * what counts as a GPU, Kubernetes allocations and pod labels.  The hook against real engines is the containers
 * tier (tests/containers, in the VM).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "jread.h"
#include "ocialloc.h"
#include "ocigpu.h"
#include "ocipolicy.h"
#include "tests.h"

static struct jr_node *parse(const char *t)
{
	const char *err = NULL;

	return jr_parse(t, strlen(t), &err);
}

/* Kubernetes allocations (ocialloc.h): ids, the hooks that name them. */
static void test_alloc_ids(void)
{
	struct jr_node *one = parse("{\"hooks\":{\"createRuntime\":[{\"path\":\"/h\",\"args\":[\"h\",\"--alloc\",\"ab12\",\"createRuntime\"]}],"
				    "\"poststop\":[{\"path\":\"/h\",\"args\":[\"h\",\"--alloc\",\"ab12\",\"poststop\"]}]}}");
	struct jr_node *two = parse("{\"hooks\":{\"createRuntime\":[{\"args\":[\"h\",\"--alloc\",\"ab12\"]},"
				    "{\"args\":[\"h\",\"--alloc\",\"cd34\",\"createRuntime\"]}]}}");
	struct jr_node *none = parse("{\"hooks\":{\"createRuntime\":[{\"args\":[\"h\",\"createRuntime\",\"--alloc\"]}]}}");

	CU_ASSERT_TRUE(oci_alloc_id_ok("0123456789abcdef"));
	CU_ASSERT_FALSE(oci_alloc_id_ok(""));
	CU_ASSERT_FALSE(oci_alloc_id_ok("ABCD"));
	CU_ASSERT_FALSE(oci_alloc_id_ok("../x"));
	CU_ASSERT_FALSE(oci_alloc_id_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	CU_ASSERT_EQUAL(oci_alloc_count(one), 1);	/* both stages, one id */
	CU_ASSERT_EQUAL(oci_alloc_count(two), 2);
	CU_ASSERT_EQUAL(oci_alloc_count(none), 0);	/* "--alloc" last: no id */
	CU_ASSERT_EQUAL(oci_alloc_count(NULL), 0);
	jr_free(one);
	jr_free(two);
	jr_free(none);
}

/*
 * The pod UID an allocation is bound to, as the hook sees the annotations
 * after each runtime wrote them: containerd's io.kubernetes.cri.* after
 * the pod's own; CRI-O's io.container.manager, io.kubernetes.cri-o.* and
 * then the kubelet's container labels (io.kubernetes.pod.uid) after the
 * pod's own (internal/factory/container/container.go, SpecAddAnnotations).
 * So a pod's annotation of the runtime's own key never survives; one of
 * the other runtime's key does, and must not change the identity.
 */
static void test_pod_uid(void)
{
	static const char *const U = "0f3c2a1e-9d7b-4c5a-8e6f-1a2b3c4d5e6f";
	static const char *const V = "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928";
	char err[OCI_ERR_LEN], cgfs[256], cgsd[256], cgv[256];
	/* containerd: its sandbox-uid; a CRI-O key the pod passed through. */
	struct jr_node *ctd = parse("{\"io.kubernetes.cri.sandbox-id\":\"s1\","
				    "\"io.kubernetes.cri.sandbox-uid\":\"0f3c2a1e-9d7b-4c5a-8e6f-1a2b3c4d5e6f\","
				    "\"io.kubernetes.pod.uid\":\"7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928\"}");
	/* The same pod also forging CRI-O's manager mark: two UIDs disagree. */
	struct jr_node *ctd_forged = parse("{\"io.kubernetes.cri.sandbox-id\":\"s1\","
					   "\"io.kubernetes.cri.sandbox-uid\":\"0f3c2a1e-9d7b-4c5a-8e6f-1a2b3c4d5e6f\","
					   "\"io.container.manager\":\"cri-o\",\"io.kubernetes.cri-o.SandboxID\":\"x\","
					   "\"io.kubernetes.pod.uid\":\"7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928\"}");
	/* CRI-O: its marks and the kubelet's label, written last. */
	struct jr_node *crio = parse("{\"io.container.manager\":\"cri-o\","
				     "\"io.kubernetes.cri-o.SandboxID\":\"9a8b7c\","
				     "\"io.kubernetes.pod.uid\":\"0f3c2a1e-9d7b-4c5a-8e6f-1a2b3c4d5e6f\"}");
	/* CRI-O with a pod that set containerd's key to another pod's UID. */
	struct jr_node *crio_forged = parse("{\"io.container.manager\":\"cri-o\","
					    "\"io.kubernetes.cri-o.SandboxID\":\"9a8b7c\","
					    "\"io.kubernetes.cri.sandbox-uid\":\"7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928\","
					    "\"io.kubernetes.pod.uid\":\"0f3c2a1e-9d7b-4c5a-8e6f-1a2b3c4d5e6f\"}");
	/* Neither runtime's marks (podman, or a pod's own CRI-O-looking keys). */
	struct jr_node *none = parse("{\"io.container.manager\":\"libpod\","
				     "\"io.kubernetes.pod.uid\":\"0f3c2a1e-9d7b-4c5a-8e6f-1a2b3c4d5e6f\"}");
	/* Only containerd's key, forged to another pod's UID (CRI-O with no manager mark is not CRI-O). */
	struct jr_node *ctd_other = parse("{\"io.kubernetes.cri.sandbox-uid\":\"7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928\"}");
	struct jr_node *bad = parse("{\"io.kubernetes.cri.sandbox-uid\":\"../pod\"}");
	/* A forged key with a newline: the refusal stays one line. */
	struct jr_node *nl = parse("{\"io.container.manager\":\"cri-o\",\"io.kubernetes.cri-o.SandboxID\":\"9a\","
				   "\"io.kubernetes.cri.sandbox-uid\":\"x\\nrefused: fake\","
				   "\"io.kubernetes.pod.uid\":\"0f3c2a1e-9d7b-4c5a-8e6f-1a2b3c4d5e6f\"}");
	const char *uid;

	snprintf(cgfs, sizeof(cgfs), "/sys/fs/cgroup/kubepods/besteffort/pod%s/crio-abc", U);
	snprintf(cgsd, sizeof(cgsd), "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/"
		 "kubepods-burstable-pod0f3c2a1e_9d7b_4c5a_8e6f_1a2b3c4d5e6f.slice/cri-containerd-abc.scope");
	snprintf(cgv, sizeof(cgv), "/sys/fs/cgroup/kubepods/pod%s/abc", V);

	CU_ASSERT_EQUAL(oci_pod_uid(ctd, cgfs, &uid, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(uid, U);	/* the passed-through CRI-O key changes nothing */
	CU_ASSERT_EQUAL(oci_pod_uid(ctd, cgsd, &uid, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(uid, U);
	CU_ASSERT_EQUAL(oci_pod_uid(ctd_forged, cgfs, &uid, err, sizeof(err)), -EPERM);
	CU_ASSERT_PTR_NULL(uid);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "two pod UIDs"));
	CU_ASSERT_EQUAL(oci_pod_uid(crio, cgfs, &uid, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(uid, U);
	CU_ASSERT_EQUAL(oci_pod_uid(crio, cgsd, &uid, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(oci_pod_uid(crio_forged, cgfs, &uid, err, sizeof(err)), -EPERM);
	CU_ASSERT_PTR_NULL(uid);
	/* Even in the other pod's cgroup the disagreement refuses it. */
	CU_ASSERT_EQUAL(oci_pod_uid(crio_forged, cgv, &uid, err, sizeof(err)), -EPERM);
	CU_ASSERT_EQUAL(oci_pod_uid(none, cgfs, &uid, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no pod UID"));
	/* A UID that is not the pod cgroup's is a forged one. */
	CU_ASSERT_EQUAL(oci_pod_uid(ctd_other, cgfs, &uid, err, sizeof(err)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not in that pod's cgroup"));
	CU_ASSERT_EQUAL(oci_pod_uid(ctd_other, cgv, &uid, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(oci_pod_uid(crio, "/sys/fs/cgroup/system.slice/x.scope", &uid, err, sizeof(err)), -EPERM);
	/* "pod" + a prefix of the UID, or the UID inside another name, is no match. */
	CU_ASSERT_EQUAL(oci_pod_uid(crio, "/sys/fs/cgroup/kubepods/pod0f3c2a1e/x", &uid, err, sizeof(err)), -EPERM);
	CU_ASSERT_EQUAL(oci_pod_uid(crio, "/sys/fs/cgroup/kubepods/xpod0f3c2a1e-9d7b-4c5a-8e6f-1a2b3c4d5e6f/x", &uid, err, sizeof(err)), -EPERM);
	CU_ASSERT_EQUAL(oci_pod_uid(bad, "/sys/fs/cgroup/kubepods/pod../pod/x", &uid, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'?" "?" "?pod'"));	/* one line, whatever the pod wrote */
	CU_ASSERT_EQUAL(oci_pod_uid(nl, cgfs, &uid, err, sizeof(err)), -EPERM);
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	CU_ASSERT_EQUAL(oci_pod_uid(NULL, cgfs, &uid, err, sizeof(err)), -ENOENT);
	jr_free(ctd);
	jr_free(ctd_forged);
	jr_free(crio);
	jr_free(crio_forged);
	jr_free(none);
	jr_free(ctd_other);
	jr_free(bad);
	jr_free(nl);
}

/* The record's grant, the claim by pod UID, the labels (as root only). */
static void test_alloc_files(void)
{
	char dir[] = "/tmp/gdl-alloc-XXXXXX", path[256], grant[128], err[OCI_ERR_LEN], text[256];
	struct jr_node *ann = parse("{\"io.kubernetes.cri.sandbox-id\":\"s1\",\"io.kubernetes.cri.sandbox-namespace\":\"ns\","
				    "\"io.kubernetes.cri.sandbox-name\":\"p 1\",\"io.kubernetes.cri.container-name\":\"main\"}");
	struct jr_node *plain = parse("{\"io.kubernetes.cri.sandbox-namespace\":\"ns\"}");
	/* CRI-O: the kubelet's container labels, which it copies last. */
	struct jr_node *crio = parse("{\"io.container.manager\":\"cri-o\",\"io.kubernetes.cri-o.SandboxID\":\"9a8b\","
				     "\"io.kubernetes.pod.namespace\":\"team-a\",\"io.kubernetes.pod.name\":\"train-0\","
				     "\"io.kubernetes.container.name\":\"cuda\",\"io.kubernetes.cri.sandbox-name\":\"forged\"}");
	/* Both runtimes' marks: one is forged, so no labels at all. */
	struct jr_node *both = parse("{\"io.container.manager\":\"cri-o\",\"io.kubernetes.cri-o.SandboxID\":\"9a8b\","
				     "\"io.kubernetes.cri.sandbox-id\":\"s1\",\"io.kubernetes.pod.name\":\"train-0\"}");
	FILE *f;
	size_t n;

	if (geteuid() != 0 || !mkdtemp(dir)) {
		jr_free(ann);
		jr_free(plain);
		jr_free(crio);
		jr_free(both);
		return;	/* the record must be root's: nothing to show otherwise */
	}
	CU_ASSERT_EQUAL(oci_alloc_grant(dir, "ab12", grant, sizeof(grant), err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "gc collected it"));
	snprintf(path, sizeof(path), "%s/ab12", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("spec = /x\ngrant = 0000:00:04.0=3145728\n", f);
	fclose(f);
	chmod(path, 0644);
	CU_ASSERT_EQUAL(oci_alloc_grant(dir, "ab12", grant, sizeof(grant), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(grant, "0000:00:04.0=3145728");
	chmod(path, 0666);	/* anyone could have written the grant */
	CU_ASSERT_EQUAL(oci_alloc_grant(dir, "ab12", grant, sizeof(grant), err, sizeof(err)), -EPERM);
	CU_ASSERT_EQUAL(oci_alloc_grant(dir, "AB", grant, sizeof(grant), err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(oci_alloc_claim(dir, "ab12", "uid-a", "/sys/fs/cgroup/p", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(oci_alloc_claim(dir, "ab12", "uid-a", "/sys/fs/cgroup/p", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(oci_alloc_claim(dir, "ab12", "uid-b", "/sys/fs/cgroup/q", err, sizeof(err)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "granted to pod uid-a"));
	/* Labels: a value outside the set is left out; no CRI, no file. */
	CU_ASSERT_EQUAL(oci_labels_write(dir, "ctr-x", ann), 0);
	snprintf(path, sizeof(path), "%s/ctr-x", dir);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	CU_ASSERT_STRING_EQUAL(text, "namespace=ns\ncontainer=main\n");
	oci_labels_remove(dir, "ctr-x");
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(oci_labels_write(dir, "ctr-y", plain), 0);
	snprintf(path, sizeof(path), "%s/ctr-y", dir);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(oci_labels_write(dir, "ctr-y", both), 0);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(oci_labels_write(dir, "ctr-z", crio), 0);
	snprintf(path, sizeof(path), "%s/ctr-z", dir);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	CU_ASSERT_STRING_EQUAL(text, "namespace=team-a\npod=train-0\ncontainer=cuda\n");
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(path), 0);
	jr_free(ann);
	jr_free(plain);
	jr_free(crio);
	jr_free(both);
}

static void test_jread(void)
{
	const char *t = "{\"id\":\"a\\u00e9\\ud83d\\ude00\\n\",\"pid\":4242,"
			"\"ok\":true,\"n\":null,\"a\":[1,{\"path\":\"/dev/kfd\"}],"
			"\"id\":\"last\"}";
	const char *err = NULL;
	struct jr_node *n = jr_parse(t, strlen(t), &err);
	const struct jr_node *a;

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_STRING_EQUAL(jr_str(n, "id"), "last");	/* last wins */
	CU_ASSERT_STRING_EQUAL(jr_get(n, "pid")->str, "4242");
	CU_ASSERT_EQUAL(jr_get(n, "ok")->boolean, 1);
	CU_ASSERT_EQUAL(jr_get(n, "n")->type, JR_NULL);
	a = jr_get(n, "a");
	CU_ASSERT_EQUAL(a->type, JR_ARR);
	CU_ASSERT_STRING_EQUAL(jr_str(a->child->next, "path"), "/dev/kfd");
	CU_ASSERT_PTR_NULL(jr_str(n, "pid"));	/* not a string */
	CU_ASSERT_PTR_NULL(jr_get(a, "x"));	/* not an object */
	jr_free(n);
	t = "{\"s\":\"a\\u00e9\\ud83d\\ude00\"}";
	n = jr_parse(t, strlen(t), &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_STRING_EQUAL(jr_str(n, "s"), "a\xc3\xa9\xf0\x9f\x98\x80");
	jr_free(n);
}

static void test_jread_bad(void)
{
	static const char *const bad[] = {
		"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "tru",
		"\"\\u0000\"", "\"\\x\"", "\"a", "{} x", "{\"a\":\"\x01\"}", "-",
	};
	char deep[200];
	const char *err;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		CU_ASSERT_PTR_NULL(jr_parse(bad[i], strlen(bad[i]), &err));
		CU_ASSERT_PTR_NOT_NULL(err);
	}
	/* Numbers exactly as RFC 8259 has them; a NUL is not part of one. */
	CU_ASSERT_PTR_NULL(jr_parse("{\"a\":1\0}", 8, &err));
	CU_ASSERT_PTR_NULL(jr_parse("[1\0]", 4, &err));
	CU_ASSERT_PTR_NULL(jr_parse("[01]", 4, &err));
	CU_ASSERT_PTR_NULL(jr_parse("[1.]", 4, &err));
	CU_ASSERT_PTR_NULL(jr_parse("[1e]", 4, &err));
	CU_ASSERT_PTR_NULL(jr_parse("[1-2]", 5, &err));
	CU_ASSERT_PTR_NULL(jr_parse("[\"a\0b\"]", 7, &err));
	{
		struct jr_node *ok = jr_parse("[-0.5e+3,0,12]", 14, &err);

		CU_ASSERT_PTR_NOT_NULL(ok);
		jr_free(ok);
	}
	memset(deep, '[', sizeof(deep));
	CU_ASSERT_PTR_NULL(jr_parse(deep, sizeof(deep), &err));
	CU_ASSERT_STRING_EQUAL(err, "nested too deeply");
}

static void test_conf(void)
{
	struct oci_conf c;
	char err[OCI_ERR_LEN];

	oci_conf_defaults(&c);
	CU_ASSERT_EQUAL(c.default_quota, 1ULL << 30);
	/* Finite, and every rule that lets a tenant past it off. */
	CU_ASSERT_EQUAL(c.max_quota, 40ULL << 30);
	CU_ASSERT_EQUAL(c.unannotated, OCI_UNANNOTATED_DEFAULT);
	CU_ASSERT_EQUAL(c.peer_annotation, OCI_REFUSE);
	CU_ASSERT_EQUAL(c.admin_containers, OCI_REFUSE);
	CU_ASSERT_EQUAL(c.uninterposed, OCI_REFUSE);
	/* The packaged file says the same as the built-in defaults. */
	{
		struct oci_conf f;
		char text[4096];
		FILE *in = fopen(OCI_CONF_SRC, "r");
		size_t n = in ? fread(text, 1, sizeof(text) - 1, in) : 0;

		if (in)
			fclose(in);
		text[n] = 0;
		memset(&f, 0xa5, sizeof(f));
		f.default_quota = 0;
		f.max_quota = 0;
		CU_ASSERT_EQUAL(oci_conf_parse(&f, text, "oci.conf", err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(memcmp(&f, &c, sizeof(f)), 0);
	}
	CU_ASSERT_EQUAL(oci_conf_parse(&c, "peer_annotation = allow\nadmin_containers=allow\n"
				       "uninterposed = allow\nmax_quota = unlimited", "f",
				       err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.peer_annotation, OCI_ALLOW);
	CU_ASSERT_EQUAL(c.admin_containers, OCI_ALLOW);
	CU_ASSERT_EQUAL(c.uninterposed, OCI_ALLOW);
	CU_ASSERT_EQUAL(c.max_quota, GDL_QUOTA_UNLIMITED);
	CU_ASSERT_EQUAL(oci_conf_parse(&c, "uninterposed = inject", "f", err,
				       sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "f:1: uninterposed = inject: expected refuse or allow");
	oci_conf_defaults(&c);
	CU_ASSERT_EQUAL(oci_conf_parse(&c, "# fleet\n default_quota = 2M # c\n"
				       "max_quota=64M\n\nunannotated = refuse", "f",
				       err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.default_quota, 2ULL << 20);
	CU_ASSERT_EQUAL(c.max_quota, 64ULL << 20);
	CU_ASSERT_EQUAL(c.unannotated, OCI_UNANNOTATED_REFUSE);
	/* An error changes nothing and names the line. */
	CU_ASSERT_EQUAL(oci_conf_parse(&c, "max_quota = 1G\nbogus = 1\n", "f",
				       err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "f:2: unknown key 'bogus'");
	CU_ASSERT_EQUAL(c.max_quota, 64ULL << 20);
	CU_ASSERT_EQUAL(oci_conf_parse(&c, "unannotated = maybe", "f", err,
				       sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(oci_conf_parse(&c, "default_quota = lots", "f", err,
				       sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(oci_conf_parse(&c, "default_quota", "f", err,
				       sizeof(err)), -EINVAL);
	/* The default may not exceed the maximum. */
	CU_ASSERT_EQUAL(oci_conf_parse(&c, "unannotated = default\ndefault_quota = 1G",
				       "f", err, sizeof(err)), -EINVAL);
}

static void test_quota_annotation(void)
{
	struct oci_quota q[4];
	struct oci_conf c;
	char err[OCI_ERR_LEN];

	oci_conf_defaults(&c);
	c.max_quota = 16ULL << 30;
	CU_ASSERT_EQUAL(oci_quota_parse("16G", &c, q, 4, err, sizeof(err)), 1);
	CU_ASSERT(q[0].all);
	CU_ASSERT_EQUAL(q[0].bytes, 16ULL << 30);
	CU_ASSERT_EQUAL(oci_quota_parse("0=8G,0000:3b:00.0=4G;GPU-0123=1M,*=2G",
					&c, q, 4, err, sizeof(err)), 4);
	CU_ASSERT_STRING_EQUAL(q[0].sel, "0");
	CU_ASSERT_STRING_EQUAL(q[1].sel, "0000:3b:00.0");
	CU_ASSERT_EQUAL(q[1].bytes, 4ULL << 30);
	CU_ASSERT_STRING_EQUAL(q[2].sel, "GPU-0123");
	CU_ASSERT(q[3].all);
	CU_ASSERT_EQUAL(oci_quota_parse("banana", &c, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'banana' is not a size"));
	CU_ASSERT_EQUAL(oci_quota_parse("0=", &c, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(oci_quota_parse("=4G", &c, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(oci_quota_parse("", &c, q, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(oci_quota_parse("1,1,1,1,1", &c, q, 4, err, sizeof(err)), -E2BIG);
	/* Over the fleet maximum, "unlimited" included. */
	CU_ASSERT_EQUAL(oci_quota_parse("0=17G", &c, q, 4, err, sizeof(err)), -EDQUOT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "over the fleet maximum 16G"));
	CU_ASSERT_EQUAL(oci_quota_parse("unlimited", &c, q, 4, err, sizeof(err)), -EDQUOT);
}

static void test_quota_resolve(void)
{
	struct gdl_device_info d[2];
	struct gdlock_ensure_quota eq[4];
	struct oci_quota q[4];
	struct oci_conf c;
	char err[OCI_ERR_LEN];
	int n;

	memset(d, 0, sizeof(d));
	d[0].index = 0;
	d[1].index = 5;
	d[1].flags = GDL_DEV_F_PCI;
	d[1].pci_bdf = 0x3b << 8;
	d[1].uuid[0] = 0xab;
	d[1].uuid[15] = 0xcd;
	oci_conf_defaults(&c);
	n = oci_quota_parse("0000:3b:00.0=4G,8G", &c, q, 4, err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(n, 2);
	/* The every-device entry goes first, so the per-device one wins. */
	CU_ASSERT_EQUAL(oci_quota_resolve(q, n, d, 2, eq, err, sizeof(err)), 2);
	CU_ASSERT_EQUAL(eq[0].device, GDL_ALL_DEVICES);
	CU_ASSERT_EQUAL(eq[0].bytes, 8ULL << 30);
	CU_ASSERT_EQUAL(eq[1].device, 5);
	CU_ASSERT_EQUAL(eq[1].bytes, 4ULL << 30);
	CU_ASSERT_EQUAL(eq[1].reserved, 0);
	n = oci_quota_parse("GPU-ab000000-0000-0000-0000-0000000000cd=1M", &c, q, 4,
			    err, sizeof(err));
	CU_ASSERT_EQUAL(oci_quota_resolve(q, n, d, 2, eq, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(eq[0].device, 5);
	n = oci_quota_parse("7=1M", &c, q, 4, err, sizeof(err));
	CU_ASSERT_EQUAL(oci_quota_resolve(q, n, d, 2, eq, err, sizeof(err)), -ENODEV);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no device '7'"));
}

static void test_peer_annotation(void)
{
	struct gdl_device_info d[3];
	struct gdl_acl_entry e[4];
	char err[OCI_ERR_LEN];

	memset(d, 0, sizeof(d));
	d[0].index = 0;
	d[1].index = 1;
	d[2].index = 4;
	d[2].flags = GDL_DEV_F_PCI;
	d[2].pci_bdf = 0x3b << 8;
	CU_ASSERT_EQUAL(oci_peer_parse("0>1", d, 3, e, 4, err, sizeof(err)), 1);
	CU_ASSERT_EQUAL(e[0].dev_index, 0);
	CU_ASSERT_EQUAL(e[0].peer_index, 1);
	CU_ASSERT_EQUAL(e[0].rights, GDL_ACCESS_PEER);
	CU_ASSERT_EQUAL(e[0].agent_id, 0);
	CU_ASSERT_EQUAL(e[0].addr | e[0].len | e[0].reserved0, 0);
	CU_ASSERT_EQUAL(oci_peer_parse(" 1 <> 0000:3b:00.0 ;0>4", d, 3, e, 4, err,
				       sizeof(err)), 3);
	CU_ASSERT_EQUAL(e[0].dev_index, 1);
	CU_ASSERT_EQUAL(e[0].peer_index, 4);
	CU_ASSERT_EQUAL(e[1].dev_index, 4);
	CU_ASSERT_EQUAL(e[1].peer_index, 1);
	CU_ASSERT_EQUAL(e[2].dev_index, 0);
	CU_ASSERT_EQUAL(oci_peer_parse("0-1", d, 3, e, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not DEV>PEER"));
	CU_ASSERT_EQUAL(oci_peer_parse("0>9", d, 3, e, 4, err, sizeof(err)), -ENODEV);
	CU_ASSERT_EQUAL(oci_peer_parse("1>1", d, 3, e, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(oci_peer_parse("", d, 3, e, 4, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(oci_peer_parse("0<>1,0<>4,1>0", d, 3, e, 4, err,
				       sizeof(err)), -E2BIG);
}

static void test_names(void)
{
	char a[GDL_NAME_LEN], b[GDL_NAME_LEN];

	/* base32 of SHA-256("abc"), as Python's base64.b32encode gives it. */
	CU_ASSERT_EQUAL(oci_agent_name("abc", a), 0);
	CU_ASSERT_STRING_EQUAL(a, "ctr-xj4bnp4pahh6uqkbidpf3lrceoy");
	CU_ASSERT_EQUAL(strlen(a), GDL_NAME_LEN - 1);
	CU_ASSERT_EQUAL(oci_agent_name("k8s_trainer_ml_0", a), 0);
	CU_ASSERT_EQUAL(oci_agent_name("k8s_trainer_ml_0", b), 0);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_EQUAL(oci_agent_name("k8s_trainer_ml_1", b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	/*
	 * The collisions a tenant could choose before: ids that share their
	 * first 12 hex digits (runc and ctr take any id), and a hex prefix
	 * equal to another id's FNV hash.
	 */
	CU_ASSERT_EQUAL(oci_agent_name("a3c9a2703de702cbc7a4c9603ec9", a), 0);
	CU_ASSERT_EQUAL(oci_agent_name("a3c9a2703de7-mine", b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(oci_agent_name("A3C9A2703DE702CBC7A4C9603EC9", b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(oci_agent_name("k8s_trainer_ml_0", a), 0);
	CU_ASSERT_EQUAL(oci_agent_name(a + 4, b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(oci_agent_name("", a), -EINVAL);
	CU_ASSERT_EQUAL(oci_agent_name(NULL, a), -EINVAL);
}

static void test_cgroup_path(void)
{
	char p[256], e[OCI_ERR_LEN];

	CU_ASSERT_EQUAL(oci_cgroup_path("0::/libpod_parent/libpod-abc\n",
					"/libpod_parent/libpod-abc", "abc", p,
					sizeof(p), e, sizeof(e)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/libpod_parent/libpod-abc");
	/* systemd manager: crun's "container" leaf gives way to the scope. */
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/machine.slice/libpod-abc.scope/container",
					"machine.slice:libpod:abc", "abc", p,
					sizeof(p), e, sizeof(e)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/machine.slice/libpod-abc.scope");
	/* A pod slice expands to its ancestors; hybrid hierarchies too. */
	CU_ASSERT_EQUAL(oci_cgroup_path("12:cpu:/x\n0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/crio-1f.scope/container\n",
					"kubepods-besteffort-pod1.slice:crio:1f",
					"1f", p, sizeof(p), e, sizeof(e)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/crio-1f.scope");
	/* Relative paths are under the runtime's cgroup: the tail matches. */
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/runtime/docker/d0\n", "docker/d0",
					"d0", p, sizeof(p), e, sizeof(e)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/runtime/docker/d0");
	CU_ASSERT_EQUAL(oci_cgroup_path("12:cpu:/x\n", "/a", "a", p, sizeof(p),
					e, sizeof(e)), -ENOENT);
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/\n", "/", "a", p, sizeof(p), e,
					sizeof(e)), -EPERM);
	/*
	 * Not the container's own: podman --cgroups=disabled (no
	 * cgroupsPath, its init in the caller's session), an id that is
	 * literally "container" (crun's leaf), a process elsewhere.
	 */
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/user.slice/user-0.slice/session-1.scope\n",
					NULL, "abc", p, sizeof(p), e, sizeof(e)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(e, "cgroups=disabled"));
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/system.slice/sshd.service\n", "",
					"abc", p, sizeof(p), e, sizeof(e)), -EPERM);
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/docker/container\n", "/docker/container",
					"container", p, sizeof(p), e, sizeof(e)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/docker/container");	/* not /docker */
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/docker/container\n", "/docker",
					"container", p, sizeof(p), e, sizeof(e)), -EPERM);
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/libpod_parent\n", "/libpod_parent/libpod-abc",
					"abc", p, sizeof(p), e, sizeof(e)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(e, "not in the one the engine asked for"));
	/* The engine's own path must name the container. */
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/libpod_parent/other\n", "/libpod_parent/other",
					"abc", p, sizeof(p), e, sizeof(e)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(e, "does not name the container"));
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/a.scope\n", "bad:slice", "a", p,
					sizeof(p), e, sizeof(e)), -EINVAL);
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/a/b\n", "/a/b", "b", p, 4, e,
					sizeof(e)), -ENAMETOOLONG);
}

/* A host tree for the GPU tests: /dev nodes, /proc/driver/nvidia, /sys. */
static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256], dir[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (slash = dir + strlen(root) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = 0;
		mkdir(dir, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int node(const char *rel, unsigned int maj, unsigned int min)
{
	char path[256];

	put(rel, "");
	snprintf(path, sizeof(path), "%s%s", root, rel);
	unlink(path);
	return mknod(path, S_IFCHR | 0600, makedev(maj, min));
}

static int make_root(void)
{
	char path[256];

	snprintf(root, sizeof(root), "/tmp/gdl-oci-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	put("/proc/devices", "Character devices:\n  1 mem\n195 nvidia\n226 drm\n235 kfd\n");
	put("/proc/driver/nvidia/gpus/0000:3b:00.0/information",
	    "Model: X\nGPU UUID: GPU-aaaa\nDevice Minor: 1\n");
	put("/proc/driver/nvidia/gpus/0000:1a:00.0/information",
	    "Model: X\nGPU UUID: GPU-bbbb\nDevice Minor: 0\n");
	/* As sysfs has it: the node's directory, its "device" a link. */
	put("/sys/dev/char/226:128/dev", "226:128\n");
	snprintf(path, sizeof(path), "%s/sys/dev/char/226:128/device", root);
	if (symlink("../../../devices/pci0000:00/0000:00:05.0", path))
		return -1;
	put("/etc/preload", "/usr/lib/gpu-dma-lock/libgpudmalock-cuda.so\n");
	put("/proc/1/ns/user", "");
	snprintf(path, sizeof(path), "%s/proc/1/ns/user", root);
	put("/proc/9/ns/x", "");
	{
		char other[256];

		snprintf(other, sizeof(other), "%s/proc/9/ns/user", root);
		if (link(path, other))
			return -1;
	}
	put("/proc/9/ns/other", "");
	if (node("/dev/nvidia0", 195, 0) || node("/dev/nvidia1", 195, 1) ||
	    node("/dev/nvidiactl", 195, 255) || node("/dev/dri/renderD128", 226, 128) ||
	    node("/dev/kfd", 235, 0) || node("/dev/null", 1, 3))
		return -1;
	return 0;
}

static int drop_root(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) ? -1 : 0;
}

/* The ledger's devices: 0000:1a:00.0, 0000:3b:00.0, 0000:00:05.0. */
static void devices(struct gdl_device_info d[3])
{
	memset(d, 0, 3 * sizeof(d[0]));
	d[0].index = 0, d[0].flags = GDL_DEV_F_PCI, d[0].pci_bdf = 0x1a << 8;
	d[1].index = 1, d[1].flags = GDL_DEV_F_PCI, d[1].pci_bdf = 0x3b << 8;
	d[2].index = 5, d[2].flags = GDL_DEV_F_PCI, d[2].pci_bdf = 0x05 << 3;
}

/* Which ledger positions a config.json gives, or -1 for no GPU at all. */
static long gpus_of(const char *json, const char *annots, char *why)
{
	struct gdl_device_info d[3];
	struct jr_node *c = jr_parse(json, strlen(json), NULL);
	struct jr_node *a = annots ? jr_parse(annots, strlen(annots), NULL) : NULL;
	struct oci_host h;
	struct oci_gpus g;
	long ret = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	devices(d);
	oci_host_init(&h, root);
	if (oci_gpus_find(c, a, &h, &g))
		ret = (long)oci_gpus_resolve(&g, &h, d, 3);
	if (why)
		strcpy(why, g.why);
	jr_free(c);
	jr_free(a);
	return ret;
}

static void test_gpus(void)
{
	char why[192];

	CU_ASSERT_EQUAL(gpus_of("{}", NULL, NULL), -1);
	/* Device entries by number, minor to PCI through NVIDIA's /proc. */
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":195,\"minor\":1}]}}",
				NULL, why), 2);
	CU_ASSERT_STRING_EQUAL(why, "device /dev/x");
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/nvidiactl\",\"type\":\"c\",\"major\":195,\"minor\":255}]}}",
				NULL, NULL), -1);
	/* By the host node's path when numbers are left out. */
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/nvidia0\"}]}}",
				NULL, NULL), 1);
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/null\",\"type\":\"c\",\"major\":1,\"minor\":3}]}}",
				NULL, NULL), -1);
	/* A DRM render node: its PCI device through /sys/dev/char. */
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/dri/renderD128\",\"type\":\"c\",\"major\":226,\"minor\":128}]}}",
				NULL, NULL), 4);
	/* An unknown minor cannot be pinned down: every GPU. */
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/nvidia7\",\"type\":\"c\",\"major\":195,\"minor\":7}]}}",
				NULL, NULL), 7);
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/kfd\",\"type\":\"c\",\"major\":235,\"minor\":0}]}}",
				NULL, NULL), 7);
	/* Bind mounts of a node, of /dev, of /dev/dri; a devtmpfs. */
	CU_ASSERT_EQUAL(gpus_of("{\"mounts\":[{\"destination\":\"/dev/g\",\"type\":\"bind\",\"source\":\"/dev/nvidia1\"}]}",
				NULL, why), 2);
	CU_ASSERT_STRING_EQUAL(why, "a bind mount of /dev/nvidia1");
	CU_ASSERT_EQUAL(gpus_of("{\"mounts\":[{\"destination\":\"/d\",\"source\":\"/dev/dri\",\"options\":[\"rbind\"]}]}",
				NULL, NULL), 4);
	CU_ASSERT(gpus_of("{\"mounts\":[{\"destination\":\"/d\",\"source\":\"/dev\",\"options\":[\"bind\",\"ro\"]}]}",
			  NULL, NULL) > 0);
	CU_ASSERT_EQUAL(gpus_of("{\"mounts\":[{\"destination\":\"/d\",\"type\":\"devtmpfs\",\"source\":\"x\"}]}",
				NULL, NULL), 7);
	CU_ASSERT_EQUAL(gpus_of("{\"mounts\":[{\"destination\":\"/etc/x\",\"type\":\"bind\",\"source\":\"/etc\"}]}",
				NULL, NULL), -1);
	/* Device rules that allow reading or writing a GPU major. */
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":195,\"access\":\"rw\"}]}}}",
				NULL, NULL), 7);
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":195,\"minor\":0,\"access\":\"rw\"}]}}}",
				NULL, NULL), 1);
	CU_ASSERT(gpus_of("{\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}}}",
			  NULL, NULL) > 0);
	/* mknod alone, or a deny, gives nothing. */
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\",\"access\":\"m\"},{\"allow\":false,\"major\":195}]}}}",
				NULL, NULL), -1);
	/* NVIDIA's runtime: the env (index in PCI order, UUID), the hook. */
	CU_ASSERT_EQUAL(gpus_of("{\"process\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=1\"]}}",
				NULL, why), 2);
	CU_ASSERT_STRING_EQUAL(why, "NVIDIA_VISIBLE_DEVICES=1");
	CU_ASSERT_EQUAL(gpus_of("{\"process\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=GPU-bbbb,0\"]}}",
				NULL, NULL), 1);
	CU_ASSERT_EQUAL(gpus_of("{\"process\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=all\"]}}",
				NULL, NULL), 7);
	CU_ASSERT_EQUAL(gpus_of("{\"process\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=void\"]}}",
				NULL, NULL), -1);
	CU_ASSERT_EQUAL(gpus_of("{\"process\":{\"env\":[\"NVIDIA_VISIBLE_DEVICES=\"]}}",
				NULL, NULL), -1);
	CU_ASSERT_EQUAL(gpus_of("{\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/nvidia-container-runtime-hook\",\"args\":[\"x\",\"prestart\"]}]}}",
				NULL, NULL), 7);
	CU_ASSERT_EQUAL(gpus_of("{\"mounts\":[{\"destination\":\"/var/run/nvidia-container-devices/GPU-aaaa\",\"source\":\"/dev/null\"}]}",
				NULL, NULL), 2);
	/* CDI requests, in config.json's or the state's annotations. */
	CU_ASSERT_EQUAL(gpus_of("{\"annotations\":{\"cdi.k8s.io/dp\":\"nvidia.com/gpu=1\"}}",
				NULL, NULL), 2);
	CU_ASSERT_EQUAL(gpus_of("{}", "{\"cdi.k8s.io/x\":\"amd.com/gpu=all\"}", NULL), 7);
	CU_ASSERT_EQUAL(gpus_of("{}", "{\"cdi.k8s.io/x\":\"vendor.io/net=eth0\"}", NULL), -1);
	/* The ledger's node: every GPU alone, nothing next to a GPU. */
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/gpu_dma_lock\"}]}}",
				NULL, why), 7);
	CU_ASSERT_STRING_EQUAL(why, "the ledger's node /dev/gpu_dma_lock");
	CU_ASSERT_EQUAL(gpus_of("{\"linux\":{\"devices\":[{\"path\":\"/dev/gpu_dma_lock\"},"
				"{\"path\":\"/dev/nvidia0\",\"type\":\"c\",\"major\":195,\"minor\":0}]}}",
				NULL, NULL), 1);
	CU_ASSERT_EQUAL(gpus_of("{}", "{\"cdi.k8s.io/x\":\"nvidia.com/gpu=1,gpu-dma-lock.io/agent=default\"}",
				NULL), 2);
	CU_ASSERT_EQUAL(gpus_of("{}", "{\"cdi.k8s.io/x\":\"gpu-dma-lock.io/agent=default\"}",
				NULL), 7);
}

/* Each case: config.json text, and what @judge must answer ("0"/"1"). */
static void judge_all(const char *const (*cases)[2], unsigned int n,
		      int (*judge)(const struct jr_node *, const char *))
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct jr_node *c = jr_parse(cases[i][0], strlen(cases[i][0]), NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		if (judge(c, root) != atoi(cases[i][1]))
			CU_FAIL(cases[i][0]);
		jr_free(c);
	}
}

static void test_admin_capable(void)
{
	static const char *const cases[][2] = {
		{ "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"],\"effective\":[\"CAP_CHOWN\"]}}}", "0" },
		{ "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_SYS_ADMIN\"]}}}", "1" },
		{ "{\"process\":{\"capabilities\":{\"ambient\":[\"CAP_SYS_ADMIN\"]}}}", "1" },
		{ "{\"process\":{}}", "1" },	/* none given: root keeps all */
		{ "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"]}},\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}", "0" },
		{ "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"]}},\"linux\":{\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/9/ns/user\"}]}}", "1" },
		{ "{\"process\":{\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"]}},\"linux\":{\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/9/ns/other\"}]}}", "0" },
		{ "{\"process\":{\"capabilities\":{\"bounding\":[7]}}}", "1" },
	};

	judge_all(cases, sizeof(cases) / sizeof(cases[0]), oci_admin_capable);
}

static void test_interposed(void)
{
	static const char *const cases[][2] = {
		{ "{\"mounts\":[{\"destination\":\"/etc/ld.so.preload\",\"source\":\"/etc/preload\",\"options\":[\"ro\",\"bind\"]},"
		  "{\"destination\":\"/usr/lib/gpu-dma-lock/libgpudmalock-cuda.so\",\"source\":\"/x\",\"options\":[\"ro\"]}]}", "1" },
		/* Writable, so the container can empty it. */
		{ "{\"mounts\":[{\"destination\":\"/etc/ld.so.preload\",\"source\":\"/etc/preload\",\"options\":[\"bind\"]},"
		  "{\"destination\":\"/usr/lib/gpu-dma-lock/libgpudmalock-cuda.so\",\"source\":\"/x\",\"options\":[\"ro\"]}]}", "0" },
		/* The library it names is not there. */
		{ "{\"mounts\":[{\"destination\":\"/etc/ld.so.preload\",\"source\":\"/etc/preload\",\"options\":[\"ro\"]}]}", "0" },
		/* A later mount over it wins. */
		{ "{\"mounts\":[{\"destination\":\"/etc/ld.so.preload\",\"source\":\"/etc/preload\",\"options\":[\"ro\"]},"
		  "{\"destination\":\"/usr/lib/gpu-dma-lock/libgpudmalock-cuda.so\",\"source\":\"/x\",\"options\":[\"ro\"]},"
		  "{\"destination\":\"/etc/ld.so.preload\",\"source\":\"/proc/devices\",\"options\":[\"ro\"]}]}", "0" },
		{ "{}", "0" },
	};

	judge_all(cases, sizeof(cases) / sizeof(cases[0]), oci_interposed);
}

int add_oci_tests(void)
{
	CU_pSuite s = CU_add_suite("OCI hook (pure parts)", make_root, drop_root);

	if (!s ||
	    !CU_add_test(s, "JSON reader", test_jread) ||
	    !CU_add_test(s, "JSON reader: bad input", test_jread_bad) ||
	    !CU_add_test(s, "oci.conf", test_conf) ||
	    !CU_add_test(s, "quota annotation", test_quota_annotation) ||
	    !CU_add_test(s, "quota to ledger devices", test_quota_resolve) ||
	    !CU_add_test(s, "peer annotation", test_peer_annotation) ||
	    !CU_add_test(s, "agent names", test_names) ||
	    !CU_add_test(s, "cgroup to bind", test_cgroup_path) ||
	    !CU_add_test(s, "what gives a container a GPU", test_gpus) ||
	    !CU_add_test(s, "admin-capable containers", test_admin_capable) ||
	    !CU_add_test(s, "the interposer carried", test_interposed) ||
	    !CU_add_test(s, "Kubernetes allocation ids", test_alloc_ids) ||
	    !CU_add_test(s, "Kubernetes pod identity (containerd, CRI-O)", test_pod_uid) ||
	    !CU_add_test(s, "Kubernetes allocation files and labels", test_alloc_files))
		return -1;
	return 0;
}
