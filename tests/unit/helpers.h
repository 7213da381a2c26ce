/* SPDX-License-Identifier: GPL-2.0 */
/* Shared fixtures and shorthands for the unit tests of the ledger core. */
#ifndef GDL_TEST_HELPERS_H
#define GDL_TEST_HELPERS_H

#include <CUnit/CUnit.h>

#include "gdl_core.h"
#include "gdl_parse.h"

#define MiB	(1ULL << 20)
#define GiB	(1ULL << 30)

/* Enforcing, unlimited default quota, roomy limits. */
struct gdl_params test_params(void);

/* Init (asserting success) and record the live-allocation baseline. */
void ledger_up(struct gdl_ledger *l, const struct gdl_params *p);
/* Assert consistent, destroy, assert every allocation was freed. */
void ledger_down(struct gdl_ledger *l);

u32 add_dev(struct gdl_ledger *l, const char *name, u64 capacity);
u32 add_pci_dev(struct gdl_ledger *l, const char *name, u64 capacity,
		u16 vendor, u32 domain, u32 bdf);
int agent_create(struct gdl_ledger *l, const char *name, u64 quota, u32 *id);
u32 new_agent(struct gdl_ledger *l, const char *name, u64 quota);

int reserve(struct gdl_ledger *l, struct gdl_owner *o, struct gdl_agent *a,
	    u32 dev, u64 size, u64 *handle);
int reserve_at(struct gdl_ledger *l, struct gdl_owner *o, struct gdl_agent *a,
	       u32 dev, u64 addr, u64 size, u64 *handle);
int reserve_req(struct gdl_ledger *l, struct gdl_owner *o, struct gdl_agent *a,
		struct gdl_reserve *req, u32 dev, u32 flags, u64 addr,
		u64 size);

int dma(struct gdl_ledger *l, struct gdl_agent *a, u32 dev, u32 access,
	u64 addr, u64 len, u32 *result);
int dma_peer(struct gdl_ledger *l, struct gdl_agent *a, u32 dev, u32 peer);

struct gdl_acl_entry acl_entry(u32 agent, u32 owner, u32 dev, u32 rights,
			       u64 addr, u64 len);
struct gdl_acl_entry peer_entry(u32 agent, u32 dev, u32 peer);

struct gdl_quota quota_of(struct gdl_ledger *l, struct gdl_agent *a, u32 dev);
struct gdl_device_info dev_info(struct gdl_ledger *l, u32 dev);
u64 stat(struct gdl_ledger *l, unsigned int idx);
u32 acl_count(struct gdl_ledger *l, u32 filter);
/* The reservations a file holds (the module keeps no count of them). */
u32 owner_count(struct gdl_owner *o);

/* Suites. */
void register_quota_suite(void);
void register_acl_suite(void);
void register_lifecycle_suite(void);
void register_parse_suite(void);
void register_concurrency_suite(void);
void register_alloc_fail_suite(void);
void register_event_suite(void);
void register_isolation_suite(void);
void register_hotplug_suite(void);
void register_acl_lock_suite(void);
void register_share_suite(void);

#define ADD_TEST(s, f)	CU_add_test((s), #f, (f))

#endif
