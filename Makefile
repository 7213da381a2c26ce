# SPDX-License-Identifier: GPL-2.0
#
# gpu-dma-lock top-level Makefile.
#
#   make                 build the module against KDIR (see below)
#   make modules-all     build it against every installed kernel's headers
#   make check           install what the tests need, run every test tier
#   make demo            the module in a VM, agents, a workload, stats
#
# KVER defaults to the running kernel when its headers are installed, else
# the newest /lib/modules/*/build (this project's own build machines run a
# kernel without headers).

# One version source: debian/changelog.
# (Make counts parentheses, so the sed script names them through variables.)
LP := (
RP := )
VERSION := $(shell sed -n '1{s/^[^$(LP)]*$(LP)//;s/[-$(RP)].*//;p;}' debian/changelog)

KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
	  else ls -d /lib/modules/*/build 2>/dev/null | sed 's|/lib/modules/||;s|/build||' | sort -V | tail -n 1; fi)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build
W ?=

.PHONY: all module modules-all clean check demo unit coverage vm lint \
	deps install version utils vm-itest

all: module

version:
	@echo $(VERSION)

module:
	@test -d "$(KDIR)" || { echo "no kernel headers at $(KDIR): set KVER or KDIR, or run 'make deps'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src GDL_VERSION=$(VERSION) $(if $(W),W=$(W)) modules

# Each kernel gets its own copy of the sources so builds do not mix.
modules-all:
	@set -e; for k in $$(tests/vm/kernels.sh); do \
		echo "== $$k"; \
		mkdir -p $(BUILD)/kmod/$$k; \
		cp src/*.c src/*.h src/Kbuild $(BUILD)/kmod/$$k/; \
		mkdir -p $(BUILD)/kmod/$$k/uapi; cp src/uapi/*.h $(BUILD)/kmod/$$k/uapi/; \
		$(MAKE) -C /lib/modules/$$k/build M=$(BUILD)/kmod/$$k GDL_VERSION=$(VERSION) $(if $(W),W=$(W)) modules; \
	done

utils:
	$(MAKE) -C utils BUILD=$(BUILD)

# The integration test program runs inside the VM: static, so the guest
# needs nothing but the host's libc.
vm-itest: utils
	@mkdir -p $(BUILD)/vm
	$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iutils/include -Isrc/uapi \
		tests/vm/itest.c $(BUILD)/utils/libgpudmalock.a -o $(BUILD)/vm/itest

vm: modules-all vm-itest
	tests/vm/run-suite.sh

deps:
	tests/deps.sh

lint: deps
	tests/lint.sh

unit: deps
	$(MAKE) -C tests/unit test

coverage: deps
	$(MAKE) -C tests/unit coverage

check: deps
	tests/check.sh

install:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src GDL_VERSION=$(VERSION) modules_install

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/src clean 2>/dev/null
	rm -rf $(BUILD)
