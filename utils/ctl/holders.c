// SPDX-License-Identifier: GPL-2.0
/*
 * gpu-dma-lock-ctl holders: who holds memory, and, with --kill, the end of
 * it.  A destroyed agent's charge lasts as long as some open file holds a
 * handle on its reservations (an importer's attached handle, say); the
 * ledger never takes a handle away, because the driver may still map the
 * memory, so ending the holding processes is the admin's way to end it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "json.h"

#define HOLDERS_USAGE "holders [--agent AGENT] [--kill] [--json]"
#define KILL_WAIT_MS 10000

/* A snapshot of the table: the count, or an exit code (printed) as < 0. */
static int holders_read(struct gdlock_holder **out)
{
	struct gdlock_holder *h = NULL;
	int n, m = 0;

	for (;;) {
		n = gdlock_holders(NULL, h, m);
		if (n < 0 || n <= m)
			break;
		free(h);
		/* Some spare for files opened between two reads. */
		m = n + 16;
		h = calloc(m, sizeof(*h));
		if (!h) {
			n = -ENOMEM;
			break;
		}
	}
	if (n >= 0) {
		*out = h;
		return n;
	}
	free(h);
	if (n == -ENOENT) {
		fprintf(stderr, "holders: %s is missing: the module is not loaded, or is older than 0.5\n",
			GDLOCK_HOLDERS_PATH);
		return -EXIT_ABSENT;
	}
	if (n == -EACCES || n == -EPERM) {
		fprintf(stderr, "holders: needs root (%s is root-only)\n",
			GDLOCK_HOLDERS_PATH);
		return -EXIT_PERM;
	}
	fprintf(stderr, "holders: reading %s: %s\n", GDLOCK_HOLDERS_PATH,
		strerror(-n));
	return -EXIT_FAIL;
}

static void holders_print(struct ctl *c, const struct gdlock_holder *h, int n,
			  const struct gdl_agent_info *a, int na,
			  bool filter, uint32_t id)
{
	struct jw w;
	int i;

	if (c->json) {
		jw_init(&w, stdout, true);
		jw_arr(&w, NULL);
	} else {
		printf("%-8s %-8s %-6s %-32s %-9s %6s %8s %s\n", "PID",
		       "HANDLE", "AGENT", "NAME", "STATE", "DEVICE", "SIZE",
		       "KIND");
	}
	for (i = 0; i < n; i++) {
		const char *name = ctl_agent_name(a, na, h[i].agent_id);
		const char *state = h[i].flags & GDLOCK_HOLDER_DESTROYED ?
				    "destroyed" : "live";
		const char *kind = h[i].flags & GDLOCK_HOLDER_ATTACHED ?
				   "attached" : "reserved";
		char b[24];

		if (filter && h[i].agent_id != id)
			continue;
		if (c->json) {
			jw_obj(&w, NULL);
			jw_i64(&w, "pid", h[i].pid);
			jw_u64(&w, "handle", h[i].handle);
			jw_u64(&w, "agent", h[i].agent_id);
			jw_str(&w, "name", name);
			jw_str(&w, "state", state);
			jw_u64(&w, "device", h[i].dev_index);
			jw_u64(&w, "size", h[i].size);
			jw_str(&w, "kind", kind);
			jw_end(&w, '}');
		} else {
			printf("%-8d %-8llu %-6u %-32s %-9s %6u %8s %s\n",
			       h[i].pid, (unsigned long long)h[i].handle,
			       h[i].agent_id, name ? name : "-", state,
			       h[i].dev_index,
			       gdlu_fmt_size(h[i].size, b, sizeof(b)), kind);
		}
	}
	if (c->json) {
		jw_end(&w, ']');
		jw_done(&w);
	}
}

/* Whether @pid holds memory of agent @id in the table now. */
static bool holds(const struct gdlock_holder *h, int n, int32_t pid,
		  uint32_t id)
{
	int i;

	for (i = 0; i < n; i++)
		if (h[i].agent_id == id && h[i].pid == pid)
			return true;
	return false;
}

static void comm_of(int32_t pid, char *buf, size_t len)
{
	char path[32];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/*
 * SIGKILL every process the table names for agent @id.  Each is opened
 * as a pidfd first, then looked up in a fresh read of the table: the
 * module shows a pid only while its process lives (a freed number shows
 * as 0), so one still listed after its pidfd was opened is that process,
 * never a stranger that got its number.  One line per pid.
 */
static int holders_kill(uint32_t id, const char *name)
{
	struct gdlock_holder *h, *now;
	int n, m, i, j, fd, ret = EXIT_OK;
	int32_t self = getpid();
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	char comm[64];

	n = holders_read(&h);
	if (n < 0)
		return -n;
	for (i = 0; i < n; i++) {
		int32_t pid = h[i].pid;

		if (h[i].agent_id != id)
			continue;
		/* Each pid once. */
		for (j = 0; j < i; j++)
			if (h[j].agent_id == id && h[j].pid == pid)
				break;
		if (j < i)
			continue;
		if (pid <= 0) {
			printf("pid 0: a handle whose opener has exited or is outside this pid namespace: not killed (find the file's holders with 'fuser -v %s')\n",
			       GDL_DEVICE_PATH);
			ret = EXIT_FAIL;
			continue;
		}
		if (pid == 1 || pid == self) {
			printf("pid %d: refused: %s\n", pid,
			       pid == 1 ? "it is init" : "it is this process");
			ret = EXIT_FAIL;
			continue;
		}
		fd = syscall(SYS_pidfd_open, pid, 0);
		if (fd < 0) {
			printf("pid %d: gone before it was killed (%s)\n", pid,
			       strerror(errno));
			continue;
		}
		comm_of(pid, comm, sizeof(comm));
		m = holders_read(&now);
		if (m < 0) {
			close(fd);
			free(h);
			return -m;
		}
		if (!holds(now, m, pid, id)) {
			printf("pid %d (%s): no longer holds memory of agent %u: not killed\n",
			       pid, comm, id);
		} else if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0)) {
			printf("pid %d (%s): kill failed: %s\n", pid, comm,
			       strerror(errno));
			ret = EXIT_FAIL;
		} else {
			printf("pid %d (%s): killed (SIGKILL)\n", pid, comm);
		}
		free(now);
		close(fd);
	}
	free(h);
	/* The files close as the processes exit: wait for the rows to go. */
	for (i = 0; i <= KILL_WAIT_MS / 100; i++) {
		bool left = false;

		m = holders_read(&now);
		if (m < 0)
			return -m;
		for (j = 0; j < m; j++)
			left |= now[j].agent_id == id;
		free(now);
		if (!left) {
			printf("agent %u%s%s%s: nothing holds its memory any more\n",
			       id, name ? " (" : "", name ? name : "",
			       name ? ")" : "");
			return ret;
		}
		nanosleep(&ts, NULL);
	}
	printf("agent %u: still held after %d s: a file passed to or inherited by another process is listed under the one that opened it; see 'fuser -v %s'\n",
	       id, KILL_WAIT_MS / 1000, GDL_DEVICE_PATH);
	return EXIT_FAIL;
}

int cmd_holders(struct ctl *c, int argc, char **argv)
{
	struct gdl_agent_info *a = NULL;
	struct gdlock_holder *h;
	const char *sel = NULL, *name = NULL;
	bool kill_them = false;
	struct gdlock *g;
	uint32_t id = 0;
	int i, n, na, ret;

	if (ctl_want_help(argc, argv)) {
		printf("usage: gpu-dma-lock-ctl " HOLDERS_USAGE "\n\n"
		       "Every handle of every open file of %s, from %s: the pid\n"
		       "that opened the file, the handle, the agent charged (also one an\n"
		       "admin destroyed, which stays charged while anything holds its\n"
		       "memory), its state, the device, the size, and the kind: reserved\n"
		       "(the reserver's own) or attached (a shared reservation).\n"
		       "--agent AGENT: that agent's rows only (a name, or an id).\n"
		       "--kill (with --agent): end that agent's charge by sending SIGKILL\n"
		       "to each process listed, never pid 1 or this one, one line per pid,\n"
		       "then wait up to %d s for its memory to be released.  Needs root.\n",
		       GDL_DEVICE_PATH, GDLOCK_HOLDERS_PATH, KILL_WAIT_MS / 1000);
		return EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--agent") && i + 1 < argc)
			sel = argv[++i];
		else if (!strcmp(argv[i], "--kill"))
			kill_them = true;
		else
			return ctl_usage_err("holders", "unexpected argument '%s'",
					     argv[i]);
	}
	if (kill_them && !sel)
		return ctl_usage_err("holders", "--kill needs --agent AGENT");
	if (kill_them && c->json)
		return ctl_usage_err("holders", "--kill prints lines, not JSON");
	ret = ctl_open(c, &g);
	if (ret)
		return ret;
	na = ctl_agents_all(g, &a);
	gdlock_close(g);
	if (na < 0)
		return ctl_err(na, "holders: listing agents");
	if (sel) {
		i = ctl_find_agent(a, na, sel);
		if (i >= 0) {
			id = a[i].id;
		} else if (gdlu_parse_u32(sel, &id) || !id) {
			fprintf(stderr, "no agent '%s': see 'gpu-dma-lock-ctl agent list'\n",
				sel);
			free(a);
			return EXIT_USAGE;
		}
		name = ctl_agent_name(a, na, id);
	}
	if (kill_them) {
		ret = holders_kill(id, name);
		free(a);
		return ret;
	}
	n = holders_read(&h);
	if (n < 0) {
		free(a);
		return -n;
	}
	holders_print(c, h, n, a, na, sel, id);
	free(h);
	free(a);
	return EXIT_OK;
}
