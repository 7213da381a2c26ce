# SPDX-License-Identifier: GPL-2.0
#
# gpu-dma-lock top-level Makefile.
#
#   make                 build the module against KDIR (see below)
#   make modules-all     build it against every installed kernel's headers
#   make check           install what the tests need, run every test tier
#   make check-debug     the vm and hostile tiers on a lockdep/KASAN kernel
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
# GDL_BUILD_DIR (the test runners' build directory) when set, so that
# what a runner builds with make is what it loads.
BUILD ?= $(or $(GDL_BUILD_DIR),$(CURDIR)/build)
W ?=

.PHONY: all module modules-all clean check check-debug demo unit coverage vm lint \
	deps install version utils vm-itest ctl bench cuda

all: module

version:
	@echo $(VERSION)

module:
	@test -d "$(KDIR)" || { echo "no kernel headers at $(KDIR): set KVER or KDIR, or run 'make deps'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src GDL_VERSION=$(VERSION) $(if $(W),W=$(W)) modules

# Each kernel gets its own copy of the sources so builds do not mix.  Only
# the files that changed are copied, so kbuild rebuilds what they touch
# and nothing else: every tier runs this, and loads what it built.
modules-all:
	@set -e; for k in $$(tests/vm/kernels.sh); do \
		echo "== $$k"; \
		mkdir -p $(BUILD)/kmod/$$k/uapi; \
		for f in src/*.c src/*.h src/Kbuild src/uapi/*.h; do \
			cmp -s $$f $(BUILD)/kmod/$$k/$${f#src/} || cp $$f $(BUILD)/kmod/$$k/$${f#src/}; \
		done; \
		tests/vm/kbuild.sh $$k M=$(BUILD)/kmod/$$k GDL_VERSION=$(VERSION) $(if $(W),W=$(W)) modules; \
	done

utils:
	$(MAKE) -C utils BUILD=$(BUILD)

# The integration test program runs inside the VM: static, so the guest
# needs nothing but the host's libc.
vm-itest: utils
	@mkdir -p $(BUILD)/vm
	$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iutils/include -Isrc/uapi -Itests/common \
		tests/vm/itest.c $(BUILD)/utils/libgpudmalock.a -o $(BUILD)/vm/itest

vm: modules-all vm-itest
	tests/vm/run-suite.sh

# Hostile conditions (docs/hostile.md): fuzzing, crash storm, races,
# privileges, lifecycle (100 cycles; make check's tier runs 30), on every
# kernel.  `make fuzz` fuzzes only, longer:
# FUZZ_CALLS per kernel (default 10M, on every kernel), FUZZ_SEED to replay a seed.
.PHONY: hostile fuzz
hostile:
	LIFECYCLE_CYCLES=$${LIFECYCLE_CYCLES:-100} tests/hostile/run.sh

fuzz:
	FUZZ_CALLS=$${FUZZ_CALLS:-10000000} FUZZ_OTHER_CALLS=$${FUZZ_CALLS:-10000000} \
		HOSTILE_SUITES=fuzz tests/hostile/run.sh

# gpu-dma-lock-ctl and libgpudmalock: host unit tests, then every kernel
# in the VM (run.sh builds what it needs).
ctl:
	tests/ctl/run.sh

# The Rust crate and the Python module: host tests, then every kernel in
# the VM (run.sh builds what it needs).
.PHONY: bindings
bindings:
	tests/bindings/run.sh

# The README's "main job": deps, build, the module in a VM, narrated.
demo:
	tests/demo/demo.sh

deps:
	tests/deps.sh

# Benchmarks print tables (docs/performance.md); they never assert on time.
bench: deps
	tests/bench/run.sh
	tests/cuda/run.sh --bench

cuda: utils
	$(MAKE) -C utils/cuda BUILD=$(BUILD)

lint: deps
	tests/lint.sh

unit: deps
	$(MAKE) -C tests/unit test

coverage: deps
	$(MAKE) -C tests/unit coverage

# deps builds the test roots in the background while the host's packages
# install; check.sh waits for them after unit and coverage.
check:
	GDL_DEPS_ROOTS=background tests/deps.sh
	tests/check.sh

# The vm and hostile tiers on a lockdep/KASAN build of Linux 7.3
# (tests/debug/): about 30 minutes to build the first time, so not part
# of make check; run it before every stop.
check-debug: deps
	tests/debug/run.sh

install:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src GDL_VERSION=$(VERSION) modules_install

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/src clean 2>/dev/null
	rm -rf $(BUILD)

# --- Packaging (docs/packaging.md) -------------------------------------
# Everything takes its version from debian/changelog: VERSION above (the
# upstream part) and the Debian revision, which becomes the RPM release.
DEB_REVISION := $(shell sed -n '1{s/^[^$(LP)]*$(LP)[^-$(RP)]*-\{0,1\}//;s/$(RP).*//;p;}' debian/changelog)
PKG_OUT ?= $(BUILD)/pkg
# PKG_PREBUILD: a command run in the build copy before building from it
# (a development aid, for example to try the packaging against a branch).
PKG_PREBUILD ?=
DKMS_DIR ?= $(BUILD)/dkms/gpu-dma-lock-$(VERSION)

# The tree DKMS builds from (/usr/src/gpu-dma-lock-VERSION): dkms.conf with
# the version filled in, and the Kbuild sources in src/.
dkms-tree:
	rm -rf $(DKMS_DIR)
	mkdir -p $(DKMS_DIR)/src/uapi
	cp src/Kbuild $(filter-out %.mod.c,$(wildcard src/*.c)) $(wildcard src/*.h) $(DKMS_DIR)/src/
	cp src/uapi/*.h $(DKMS_DIR)/src/uapi/
	sed 's/#MODULE_VERSION#/$(VERSION)/g' dkms.conf >$(DKMS_DIR)/dkms.conf

# A clean copy of the sources in $(1): git's tracked and new unignored
# files, so no build output ever reaches a package.
pkg-copy = rm -rf $(1) && mkdir -p $(1) && \
	git ls-files --cached --others --exclude-standard | \
	while IFS= read -r f; do [ -f "$$f" ] && printf '%s\n' "$$f"; done | \
	tar -cf - -T - | tar -xf - -C $(1) && \
	$(if $(PKG_PREBUILD),(cd $(1) && $(PKG_PREBUILD)),:)

# dpkg-buildpackage writes the .debs next to the tree it builds: $(PKG_OUT).
# deb-tree only makes that tree (and clears old .debs): tests/pkg/run.sh
# runs dpkg-buildpackage in it inside the Debian 13 root, which has no git.
deb-tree:
	rm -f $(PKG_OUT)/*.deb $(PKG_OUT)/*.changes $(PKG_OUT)/*.buildinfo
	$(call pkg-copy,$(PKG_OUT)/gpu-dma-lock-$(VERSION))

deb: deb-tree
	cd $(PKG_OUT)/gpu-dma-lock-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls -1 $(PKG_OUT)/*.deb

# rpm/gpu-dma-lock.spec is generated from the .in (version, release and
# %changelog from debian/changelog) and shipped in the tarball, so
# "rpmbuild -ta" works too.  --nodeps: Debian's rpm database is empty.
RPM_TOP := $(PKG_OUT)/rpm
rpm:
	utils/slurm/release.sh >/dev/null
	rm -rf $(RPM_TOP) && mkdir -p $(RPM_TOP)/SOURCES $(RPM_TOP)/SPECS
	$(call pkg-copy,$(RPM_TOP)/stage/gpu-dma-lock-$(VERSION))
	{ sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@RELEASE@/$(or $(DEB_REVISION),1)/g' \
	      -e "s/@SLURM_RELEASE@/$$(utils/slurm/release.sh)/g" -e "s/@SLURM_NEXT@/$$(utils/slurm/release.sh --next)/g" \
	      rpm/gpu-dma-lock.spec.in; \
	  rpm/changelog.sh debian/changelog; } >$(RPM_TOP)/stage/gpu-dma-lock-$(VERSION)/rpm/gpu-dma-lock.spec
	cp $(RPM_TOP)/stage/gpu-dma-lock-$(VERSION)/rpm/gpu-dma-lock.spec $(RPM_TOP)/SPECS/
	tar -C $(RPM_TOP)/stage -czf $(RPM_TOP)/SOURCES/gpu-dma-lock-$(VERSION).tar.gz gpu-dma-lock-$(VERSION)
	rpmbuild --nodeps --define '_topdir $(RPM_TOP)' --define "packager $$(sed -n 's/^ -- \(.*>\)  .*/\1/p;T;q' debian/changelog)" -bb $(RPM_TOP)/SPECS/gpu-dma-lock.spec
	@find $(RPM_TOP)/RPMS -name '*.rpm'

.PHONY: dkms-tree deb-tree deb rpm pkg
pkg:
	tests/pkg/run.sh

