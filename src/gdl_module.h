/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-only glue shared by the module's files: the one ledger, the
 * parameters, and the entry points of each file.
 */
#ifndef GDL_MODULE_H
#define GDL_MODULE_H

#include "gdl_core.h"
#include "gdl_parse.h"

#include <linux/seqlock.h>

#ifndef GDL_VERSION
#define GDL_VERSION "0.0.0-unknown"
#endif

extern struct gdl_ledger gdl_ledger;

/* gdl_main.c: parameters as parsed at load */
extern struct gdl_pci_id gdl_pci_ids[GDL_PCI_IDS_MAX];
extern unsigned int gdl_nr_pci_ids;
extern unsigned int gdl_key_majors[GDL_KEY_MAJORS_MAX];
extern unsigned int gdl_nr_key_majors;

/* gdl_bind.c */
struct gdl_ident_cache {
	seqlock_t lock;		/* readers retry, a miss writes */
	bool valid;
	bool enforce;
	u32 gen;
	u32 agent_id;
	u32 bound_by;
	struct pid *tgid;	/* compared, never dereferenced */
	u64 cgid;
};

void gdl_ident_cache_init(struct gdl_ident_cache *c);
u32 gdl_resolve_id(struct gdl_ledger *l, struct gdl_ident_cache *c,
		   u32 *bound_by);
int gdl_bind(struct gdl_ledger *l, const struct gdl_bind *b);
u32 gdl_bind_count(void);
void gdl_bind_list(u32 agent_id, struct gdl_binding_info *buf, u32 cap,
		   u32 *total);
struct seq_file;
void gdl_bind_show(struct seq_file *m);
void gdl_bind_forget_agent(struct gdl_ledger *l, u32 agent_id);
void gdl_bind_exit(struct gdl_ledger *l);

/* gdl_ioctl.c */
void gdl_holders_show(struct seq_file *m);
int gdl_chardev_init(void);
void gdl_chardev_exit(void);

/* gdl_proc.c */
int gdl_proc_init(void);
void gdl_proc_exit(void);

/* gdl_pci.c */
int gdl_pci_init(void);
void gdl_pci_exit(void);

#endif /* GDL_MODULE_H */
