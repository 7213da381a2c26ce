// SPDX-License-Identifier: GPL-2.0
/*
 * memcheck_uaf: a throwaway test module, never shipped, that plants a
 * use-after-free on load so that tests/vm/memcheck.sh can show the VM
 * harness's kernel-log scan catches what the guests' memory checkers
 * report.  uaf= names the fault:
 *   none    load and unload, nothing wrong (the control);
 *   slab    kmalloc(), kfree(), then a write into the freed object:
 *           slub_debug's poison check reports "Poison overwritten";
 *   page    alloc_page(), __free_page(), a write into the freed page,
 *           then another allocation on the same CPU, which gets that page
 *           back: page poisoning reports "pagealloc: memory corruption";
 *   kfence  kmalloc() until KFENCE samples one, kfree(), then a read:
 *           "BUG: KFENCE: use-after-free read" (-EOPNOTSUPP where the
 *           kernel has no KFENCE or it is off);
 *   int3    a breakpoint instruction: "Oops: int3", as the TCG
 *           text-patching flake gives (tests/vm/retry-check.sh, which
 *           checks when vm-run.sh boots again and when it does not);
 *   lockdep two mutexes taken in one order, then in the other (no
 *           deadlock, one thread): lockdep's "possible circular locking
 *           dependency detected" (make check-debug's kernel only);
 *   sleep   might_sleep() under a spinlock: DEBUG_ATOMIC_SLEEP's
 *           "sleeping function called from invalid context" (the same).
 * On the debug kernel, KASAN reports the slab and page writes first.
 * Every fault but none fails the load (-EAGAIN), so nothing stays loaded.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/delay.h>
#include <linux/kfence.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

static char uaf[16] = "none";
module_param_string(uaf, uaf, sizeof(uaf), 0444);
MODULE_PARM_DESC(uaf, "none, slab, page, kfence, int3, lockdep or sleep");

static DEFINE_MUTEX(memcheck_a);
static DEFINE_MUTEX(memcheck_b);
static DEFINE_SPINLOCK(memcheck_lock);

static noinline int uaf_slab(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	kfree(p);
	/* The planted fault. */
	memset(READ_ONCE(p) + 8, 0x5a, 16);
	return -EAGAIN;
}

static noinline int uaf_page(void)
{
	struct page *pg, *again;
	char *va;

	migrate_disable();
	pg = alloc_page(GFP_KERNEL);
	if (!pg) {
		migrate_enable();
		return -ENOMEM;
	}
	va = page_address(pg);
	__free_page(pg);
	/* The planted fault. */
	memset(READ_ONCE(va) + 128, 0x5a, 64);
	/* The per-CPU free list hands the same page out again, checked. */
	again = alloc_page(GFP_KERNEL);
	migrate_enable();
	pr_info("memcheck_uaf: page %s\n", again == pg ? "reused" : "not reused");
	if (again)
		__free_page(again);
	return -EAGAIN;
}

static noinline int uaf_kfence(void)
{
#ifdef CONFIG_KFENCE
	char *p;
	int i;

	for (i = 0; i < 20000; i++) {
		p = kmalloc(32, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		if (is_kfence_address(p)) {
			kfree(p);
			/* The planted fault. */
			pr_info("memcheck_uaf: read after free: %d\n", READ_ONCE(p[3]));
			return -EAGAIN;
		}
		kfree(p);
		usleep_range(500, 1000);
	}
	pr_info("memcheck_uaf: KFENCE sampled none of %d allocations\n", i);
#endif
	return -EOPNOTSUPP;
}

static noinline int plant_lockdep(void)
{
	mutex_lock(&memcheck_a);
	mutex_lock(&memcheck_b);
	mutex_unlock(&memcheck_b);
	mutex_unlock(&memcheck_a);
	/* The planted fault: the opposite order. */
	mutex_lock(&memcheck_b);
	mutex_lock(&memcheck_a);
	mutex_unlock(&memcheck_a);
	mutex_unlock(&memcheck_b);
	return -EAGAIN;
}

static noinline int plant_sleep(void)
{
	spin_lock(&memcheck_lock);
	/* The planted fault: a sleeping call is allowed here, it says. */
	might_sleep();
	spin_unlock(&memcheck_lock);
	return -EAGAIN;
}

static int __init memcheck_uaf_init(void)
{
	if (!strcmp(uaf, "none"))
		return 0;
	if (!strcmp(uaf, "slab"))
		return uaf_slab();
	if (!strcmp(uaf, "page"))
		return uaf_page();
	if (!strcmp(uaf, "kfence"))
		return uaf_kfence();
	if (!strcmp(uaf, "lockdep"))
		return plant_lockdep();
	if (!strcmp(uaf, "sleep"))
		return plant_sleep();
	if (!strcmp(uaf, "int3")) {
		asm volatile("int3");
		return -EAGAIN;
	}
	return -EINVAL;
}

static void __exit memcheck_uaf_exit(void)
{
}

module_init(memcheck_uaf_init);
module_exit(memcheck_uaf_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Planted use-after-free, for the VM harness's memory-checker test");
