// SPDX-License-Identifier: GPL-2.0
/*
 * charge BYTES...: charge each size through /dev/dmem_standin, as a GPU
 * driver's allocations on behalf of this process, and print one line per
 * charge ("charge 3145728: ok" or "charge 2097152: EAGAIN"); then keep
 * the charges until stdin closes when -w is given.  Test code: it is what
 * a process that bypasses libcuda does, with the interposer nowhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dmem_standin.h"

int main(int argc, char **argv)
{
	int fd, i = 1, wait = 0, bad = 0;

	if (argc > 1 && !strcmp(argv[1], "-w")) {
		wait = 1;
		i++;
	}
	fd = open("/dev/dmem_standin", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("charge: /dev/dmem_standin");
		return 2;
	}
	for (; i < argc; i++) {
		char *end;
		uint64_t bytes = strtoull(argv[i], &end, 0);

		if (*end || !bytes) {
			fprintf(stderr, "charge: '%s' is not a size in bytes\n", argv[i]);
			return 2;
		}
		if (ioctl(fd, DMEM_STANDIN_CHARGE, &bytes)) {
			printf("charge %llu: %s\n", (unsigned long long)bytes,
			       errno == EAGAIN ? "EAGAIN" : strerror(errno));
			bad = 1;
		} else {
			printf("charge %llu: ok\n", (unsigned long long)bytes);
		}
		fflush(stdout);
	}
	if (wait) {
		char c;

		while (read(0, &c, 1) > 0)
			;
	}
	close(fd);
	return bad;
}
