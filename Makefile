# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# clang -target bpf -> bpftool gen object -> bpftool gen skeleton -> userspace.
# Everything built lands in .output/. V=1 shows the full commands.

OUTPUT := .output
CLANG ?= $(shell command -v clang-19 || command -v clang-16 || echo clang)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION := 0.1.0

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wno-missing-field-initializers
ALL_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -I include -I $(OUTPUT) -I cli \
	-DTSH_VERSION='"$(VERSION)"' $(EXTRA_CFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I include -I $(OUTPUT) $(EXTRA_BPF_CFLAGS)
LDLIBS := -lbpf -lelf -lz -lm

# Pure stages: no kernel, no libbpf; the unit tests link only these.
PURE_SRCS := cli/util.c cli/json_writer.c cli/labels.c cli/args.c cli/hist.c cli/snapshot.c cli/statefile.c \
	cli/render_text.c cli/render_json.c cli/render_prom.c cli/render_status.c cli/common.c \
	cli/census.c cli/render_sockets.c cli/breakdown.c cli/render_trace.c
KERNEL_SRCS := cli/audit.c cli/collector.c cli/loader.c cli/pins.c \
	cli/cmd_live.c cli/cmd_attach.c cli/cmd_snapshot.c cli/cmd_status.c cli/main.c \
	cli/census_walk.c cli/cgroups.c cli/cmd_sockets.c cli/breakdown_names.c cli/session.c \
	cli/cmd_trace.c cli/ring_reader.c
PURE_OBJS := $(PURE_SRCS:cli/%.c=$(OUTPUT)/%.o)
KERNEL_OBJS := $(KERNEL_SRCS:cli/%.c=$(OUTPUT)/%.o)
HEADERS := $(wildcard include/*.h cli/*.h)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all tests test run unit-test clean deps format small-slots clang-build

all: tcpstatehist

$(OUTPUT):
	$(Q)mkdir -p $@

# The kernel's types for CO-RE: the header kept in the tree for this
# architecture (see include/vmlinux/README.md), else one dumped from VMLINUX_BTF.
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX_TREE := include/vmlinux/$(ARCH)/vmlinux.h

$(OUTPUT)/vmlinux.h: $(wildcard $(VMLINUX_TREE)) | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)if [ -f $(VMLINUX_TREE) ]; then cp $(VMLINUX_TREE) $@; \
	else $(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@; fi

$(OUTPUT)/%.tmp.bpf.o: bpf/%.bpf.c $(wildcard include/*.h bpf/*.h) $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.bpf.o: $(OUTPUT)/%.tmp.bpf.o
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# Every bpf/NAME.bpf.c gets its skeleton, NAME.skel.h.
BPF_SKELETONS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(wildcard bpf/*.bpf.c))

$(KERNEL_OBJS): $(BPF_SKELETONS)

$(OUTPUT)/%.o: cli/%.c $(HEADERS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The tool at the top for the default build, in $(OUTPUT) for the variants.
tcpstatehist $(OUTPUT)/tcpstatehist: $(PURE_OBJS) $(KERNEL_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LDLIBS) -o $@

UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:tests/unit/%.c=$(OUTPUT)/unit/%.o)
UNIT_TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))

# The list of test groups: one UNIT_GROUP(name) per UNIT_TESTS(name) table.
$(OUTPUT)/unit/tests.h: $(UNIT_TEST_SRCS)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)sed -n 's/^UNIT_TESTS(\([a-z0-9_]*\)).*/UNIT_GROUP(\1)/p' $^ > $@

$(OUTPUT)/unit/unit_main.o: $(OUTPUT)/unit/tests.h

$(OUTPUT)/unit/%.o: tests/unit/%.c $(HEADERS) tests/unit/unit.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -I tests/unit -I $(OUTPUT)/unit -c $< -o $@

$(OUTPUT)/unit_tests: $(UNIT_OBJS) $(PURE_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ -lm -o $@

$(OUTPUT)/loadgen: bench/loadgen.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -std=gnu11 -pthread $< -o $@

# A build with 16 start slots, so that the kernel tests drive the socket-storage
# fallback that a full-size table reaches only with hundreds of thousands of sockets.
SMALL_OUTPUT := $(OUTPUT)/small

small-slots:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(SMALL_OUTPUT) \
		EXTRA_BPF_CFLAGS=-DSTART_SLOT_BITS=4 $(SMALL_OUTPUT)/tcpstatehist

# The tool built with clang into its own folder: the compilers differ in what C
# leaves unspecified, such as the order in which arguments are evaluated.
CLANG_OUTPUT := $(OUTPUT)/clang

clang-build:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(CLANG_OUTPUT) CC=$(CLANG) $(CLANG_OUTPUT)/tcpstatehist

tests: $(OUTPUT)/unit_tests $(OUTPUT)/loadgen small-slots clang-build

# Installs the Debian packages the build and the tests need, when missing.
deps:
	$(Q)scripts/deps.sh

# Five 1-second summaries of this machine; every test, ending with "N passed,
# N failed" (the README's second command; its first is demo, below). Both set
# up what they need first.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./tcpstatehist -T 1 5

test: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)tests/run.sh

# The kernel matrix: the suite on Debian's kernels, each booted under qemu with
# this machine's root filesystem (docs/kernels.md). KERNELS picks them among
# 5.10 (the refusal only), 6.1, 6.1-rt, 6.12 and 6.12-rt.
KERNELS ?= 6.1 6.12 5.10

.PHONY: test-kernels

test-kernels:
	$(Q)scripts/deps.sh kernels
	$(Q)$(MAKE) --no-print-directory all tests static
	$(Q)tests/kernels/matrix.sh $(KERNELS)

unit-test: $(OUTPUT)/unit_tests
	$(Q)$(OUTPUT)/unit_tests

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) tcpstatehist

format:
	clang-format -i bpf/*.c cli/*.c cli/*.h include/*.h

# --- Fuzzing: libFuzzer with ASan and UBSan, on the pure stages only.
# Each target runs FUZZ_SECONDS on a scratch copy of its committed seed corpus
# (tests/fuzz/corpus/TARGET/), so the committed seeds, regressions included,
# are replayed every time. A crash fails the target and leaves its input in
# .output/fuzz/TARGET-crash-*: add it to the corpus and a unit test.
FUZZ_CC ?= $(shell command -v clang-19 || echo clang)
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := fuzz_args fuzz_ports fuzz_statefile
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	$(WARNINGS) -std=gnu11 -D_GNU_SOURCE -I include -I cli
FUZZ_PURE_OBJS := $(PURE_SRCS:cli/%.c=$(FUZZ_DIR)/%.o)

.PHONY: fuzz

$(FUZZ_DIR)/%.o: cli/%.c $(HEADERS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_PURE_OBJS) $(HEADERS)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_PURE_OBJS) -lm -o $@

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
	$(Q)for t in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ_DIR)/corpus-$$t && mkdir -p $(FUZZ_DIR)/corpus-$$t && \
		echo "  FUZZ     $$t for $(FUZZ_SECONDS) s" && \
		$(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
			-artifact_prefix=$(FUZZ_DIR)/$$t- $(FUZZ_DIR)/corpus-$$t \
			tests/fuzz/corpus/$$t >$(FUZZ_DIR)/$$t.log 2>&1 || \
			{ tail -40 $(FUZZ_DIR)/$$t.log; echo "fuzz: $$t failed (see $(FUZZ_DIR)/$$t.log)"; \
			  exit 1; }; \
		grep -E '^#[0-9]+.*DONE' $(FUZZ_DIR)/$$t.log | tail -1; \
	done

# --- Sanitizers: the tool and the unit tests built with ASan and
# UBSan into $(SAN_OUTPUT) (the normal build is untouched), then
# tests/sanitize.sh runs the unit tests, short live views, the daemonless
# commands and error cases; any sanitizer report fails it.
SAN_OUTPUT := $(OUTPUT)/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: sanitize san-binaries

# Only meaningful with OUTPUT=$(SAN_OUTPUT): the sanitize target sets it.
san-binaries: $(OUTPUT)/unit_tests $(OUTPUT)/tcpstatehist

sanitize:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(SAN_OUTPUT) CFLAGS="-O1 -g" \
		EXTRA_CFLAGS="$(SAN_FLAGS)" san-binaries
	$(Q)tests/sanitize.sh $(SAN_OUTPUT)

# --- Benchmark, as root: bench/run.sh; docs/performance.md explains the figures.
# The empty program (the floor) is built here, into .output/bench/.
BENCH_DIR := $(OUTPUT)/bench

.PHONY: bench

$(BENCH_DIR)/empty.tmp.bpf.o: bench/empty.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_DIR)/empty.bpf.o: $(BENCH_DIR)/empty.tmp.bpf.o
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BENCH_DIR)/empty.skel.h: $(BENCH_DIR)/empty.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name empty_bpf > $@

$(BENCH_DIR)/empty_loader: bench/empty_loader.c $(BENCH_DIR)/empty.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -std=gnu11 -I $(BENCH_DIR) $< $(LDLIBS) -o $@

bench: tcpstatehist $(OUTPUT)/loadgen $(BENCH_DIR)/empty_loader
	$(Q)bench/run.sh

# --- Fleet: install, a static binary, the kernel's types in the tree.
# `make vmlinux-h` refreshes include/vmlinux/$(ARCH)/vmlinux.h from VMLINUX_BTF.
.PHONY: vmlinux-h

vmlinux-h:
	$(call msg,GEN,$(VMLINUX_TREE))
	$(Q)mkdir -p $(dir $(VMLINUX_TREE))
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $(VMLINUX_TREE).tmp
	$(Q)mv $(VMLINUX_TREE).tmp $(VMLINUX_TREE)

# One binary for hosts that lack libbpf, libelf or zlib: everything linked in
# from Debian's static libraries (libbpf.a, libelf.a, libz.a, glibc's libc.a).
STATIC_BIN := $(OUTPUT)/static/tcpstatehist

.PHONY: static

static: $(STATIC_BIN)

$(STATIC_BIN): $(PURE_OBJS) $(KERNEL_OBJS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -static $^ $(LDLIBS) -o $@

# make install / uninstall, with PREFIX (default /usr/local) and DESTDIR. The
# files under dist/ and the docs name the default paths; install rewrites them
# to the configured ones. The settings file goes to SYSCONFDIR/default only if
# none is there, and uninstall removes it only if unchanged. INSTALL_BIN
# chooses the binary: `make install INSTALL_BIN=$(STATIC_BIN)` for the static one.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/tcpstatehist
DATADIR ?= $(PREFIX)/share/tcpstatehist
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
INSTALL_BIN ?= tcpstatehist

INSTALL_UNITS := tcpstatehist.service tcpstatehist-textfile.service tcpstatehist-textfile.timer
INSTALL_DATA := cron.d/tcpstatehist default/tcpstatehist prometheus/tcpstatehist.rules.yml
INSTALL_DOCS := README.md docs/design.md docs/monitoring.md docs/output.md docs/performance.md
ENV_FILE := $(DESTDIR)$(SYSCONFDIR)/default/tcpstatehist
INSTALL_SED := -e 's|/usr/local/sbin|$(SBINDIR)|g' \
	-e 's|/usr/local/lib/systemd/system|$(SYSTEMDUNITDIR)|g' \
	-e 's|/usr/local/share/man|$(MANDIR)|g' \
	-e 's|/usr/local/share/doc/tcpstatehist|$(DOCDIR)|g' \
	-e 's|/usr/local/share/tcpstatehist|$(DATADIR)|g' \
	-e 's|/etc/default/tcpstatehist|$(SYSCONFDIR)/default/tcpstatehist|g'

# $(call install_text,SRC,DEST): SRC with its paths rewritten, mode 0644.
install_text = mkdir -p $(dir $(2)) && sed $(INSTALL_SED) $(1) > $(2) && chmod 0644 $(2)

.PHONY: install uninstall

install: $(INSTALL_BIN)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(SBINDIR)/tcpstatehist
	$(Q)$(call install_text,docs/tcpstatehist.8,$(DESTDIR)$(MANDIR)/man8/tcpstatehist.8)
	$(Q)$(foreach f,$(INSTALL_UNITS),\
		$(call install_text,dist/systemd/$(f),$(DESTDIR)$(SYSTEMDUNITDIR)/$(f)) &&) true
	$(Q)$(foreach f,$(INSTALL_DATA),\
		$(call install_text,dist/$(f),$(DESTDIR)$(DATADIR)/$(f)) &&) true
	$(Q)$(foreach f,$(INSTALL_DOCS),\
		$(call install_text,$(f),$(DESTDIR)$(DOCDIR)/$(notdir $(f))) &&) true
	$(Q)if [ -e $(ENV_FILE) ]; then \
		echo "install: kept $(ENV_FILE); the new one is $(DESTDIR)$(DATADIR)/default/tcpstatehist"; \
	else install -D -m 0644 $(DESTDIR)$(DATADIR)/default/tcpstatehist $(ENV_FILE); fi

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)if cmp -s $(ENV_FILE) $(DESTDIR)$(DATADIR)/default/tcpstatehist; then rm -f $(ENV_FILE); \
	elif [ -e $(ENV_FILE) ]; then echo "uninstall: kept $(ENV_FILE) (changed since install)"; fi
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/tcpstatehist $(DESTDIR)$(MANDIR)/man8/tcpstatehist.8 \
		$(INSTALL_UNITS:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%) \
		$(INSTALL_DATA:%=$(DESTDIR)$(DATADIR)/%) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS)))
	$(Q)for d in $(sort $(dir $(INSTALL_DATA:%=$(DESTDIR)$(DATADIR)/%))) $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(DOCDIR); do [ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done

# The README's first command: the live view over a bounded loopback load in a
# network namespace that scripts/demo.sh creates and removes (needs root).
.PHONY: demo

demo: deps
	$(Q)$(MAKE) --no-print-directory -s all $(OUTPUT)/loadgen
	$(Q)scripts/demo.sh
