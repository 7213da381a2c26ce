// SPDX-License-Identifier: GPL-2.0
/*
 * The OCI hook's pure parts (utils/oci): its JSON reader, the fleet rules
 * of oci.conf, the quota annotation, agent names, the cgroup to bind and
 * what counts as a GPU.  The hook against real engines is the containers
 * tier (tests/containers, in the VM).
 */
#include <errno.h>
#include <string.h>

#include "jread.h"
#include "ocipolicy.h"
#include "tests.h"

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
	CU_ASSERT_EQUAL(c.max_quota, GDL_QUOTA_UNLIMITED);
	CU_ASSERT_EQUAL(c.unannotated, OCI_UNANNOTATED_DEFAULT);
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

	CU_ASSERT_EQUAL(oci_agent_name("A3C9A2703DE702CBC7A4C9603EC9", a), 0);
	CU_ASSERT_STRING_EQUAL(a, "ctr-a3c9a2703de7");
	/* Not hex: hashed, the same every time, 12 hex digits. */
	CU_ASSERT_EQUAL(oci_agent_name("k8s_trainer_ml_0", a), 0);
	CU_ASSERT_EQUAL(oci_agent_name("k8s_trainer_ml_0", b), 0);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_EQUAL(strlen(a), 16);
	CU_ASSERT_EQUAL(strncmp(a, "ctr-", 4), 0);
	CU_ASSERT_EQUAL(oci_agent_name("k8s_trainer_ml_1", b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT_EQUAL(oci_agent_name("", a), -EINVAL);
	CU_ASSERT_EQUAL(oci_agent_name(NULL, a), -EINVAL);
}

static void test_cgroup_path(void)
{
	char p[256];

	CU_ASSERT_EQUAL(oci_cgroup_path("0::/libpod_parent/libpod-abc\n", p, sizeof(p)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/libpod_parent/libpod-abc");
	/* systemd manager: crun's "container" leaf gives way to the scope. */
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/machine.slice/libpod-abc.scope/container",
					p, sizeof(p)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/machine.slice/libpod-abc.scope");
	/* Hybrid hierarchies: the v2 line, wherever it is. */
	CU_ASSERT_EQUAL(oci_cgroup_path("12:cpu:/x\n0::/k/crio-1.scope\n", p, sizeof(p)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/k/crio-1.scope");
	CU_ASSERT_EQUAL(oci_cgroup_path("12:cpu:/x\n", p, sizeof(p)), -ENOENT);
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/\n", p, sizeof(p)), -EPERM);
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/container\n", p, sizeof(p)), 0);
	CU_ASSERT_STRING_EQUAL(p, "/container");
	CU_ASSERT_EQUAL(oci_cgroup_path("0::/a/b\n", p, 4), -ENAMETOOLONG);
}

static void test_gpu_devices(void)
{
	CU_ASSERT(oci_is_gpu_device("/dev/nvidia0"));
	CU_ASSERT(oci_is_gpu_device("/dev/nvidia15"));
	CU_ASSERT(oci_is_gpu_device("/dev/dri/renderD128"));
	CU_ASSERT(oci_is_gpu_device("/dev/dri/card1"));
	CU_ASSERT(oci_is_gpu_device("/dev/kfd"));
	CU_ASSERT(oci_is_gpu_device("/dev/gpu_dma_lock"));
	CU_ASSERT(!oci_is_gpu_device("/dev/nvidiactl"));
	CU_ASSERT(!oci_is_gpu_device("/dev/nvidia-uvm"));
	CU_ASSERT(!oci_is_gpu_device("/dev/nvidia"));
	CU_ASSERT(!oci_is_gpu_device("/dev/null"));
	CU_ASSERT(!oci_is_gpu_device(NULL));
}

int add_oci_tests(void)
{
	CU_pSuite s = CU_add_suite("OCI hook (pure parts)", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "JSON reader", test_jread) ||
	    !CU_add_test(s, "JSON reader: bad input", test_jread_bad) ||
	    !CU_add_test(s, "oci.conf", test_conf) ||
	    !CU_add_test(s, "quota annotation", test_quota_annotation) ||
	    !CU_add_test(s, "quota to ledger devices", test_quota_resolve) ||
	    !CU_add_test(s, "peer annotation", test_peer_annotation) ||
	    !CU_add_test(s, "agent names", test_names) ||
	    !CU_add_test(s, "cgroup to bind", test_cgroup_path) ||
	    !CU_add_test(s, "GPU device nodes", test_gpu_devices))
		return -1;
	return 0;
}
