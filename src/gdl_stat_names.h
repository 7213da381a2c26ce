/* SPDX-License-Identifier: GPL-2.0 OR LGPL-2.1-or-later */
/*
 * The names of enum gdl_stat's counters, as /proc/gpu_dma_lock/stats and
 * gpu-dma-lock-ctl (JSON, Prometheus) print them: one table for both, so
 * the two never disagree.
 */
#ifndef GDL_STAT_NAMES_H
#define GDL_STAT_NAMES_H

#define GDL_STAT_NAMES_INIT {						\
	[GDL_STAT_IOCTLS] = "ioctls",					\
	[GDL_STAT_RESERVE_OK] = "reserve_ok",				\
	[GDL_STAT_RESERVE_DENIED_QUOTA] = "reserve_denied_quota",	\
	[GDL_STAT_RESERVE_DENIED_CAPACITY] = "reserve_denied_capacity",	\
	[GDL_STAT_RELEASES] = "releases",				\
	[GDL_STAT_DMA_ALLOWED] = "dma_allowed",				\
	[GDL_STAT_DMA_DENIED] = "dma_denied",				\
	[GDL_STAT_AUDIT_OVERRIDES] = "audit_overrides",			\
	[GDL_STAT_NO_AGENT] = "no_agent",				\
	[GDL_STAT_LIVE_AGENTS] = "live_agents",				\
	[GDL_STAT_LIVE_RESERVATIONS] = "live_reservations",		\
	[GDL_STAT_LIVE_ACL_ENTRIES] = "live_acl_entries",		\
	[GDL_STAT_LIVE_FILES] = "live_files",				\
	[GDL_STAT_LIVE_DEVICES] = "live_devices",			\
	[GDL_STAT_LEDGER_CONSISTENT] = "ledger_consistent",		\
}

#endif /* GDL_STAT_NAMES_H */
