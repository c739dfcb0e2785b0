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
PURE_SRCS := cli/util.c cli/json_writer.c cli/args.c cli/hist.c cli/snapshot.c cli/statefile.c \
	cli/render_text.c cli/render_json.c cli/render_prom.c cli/render_status.c cli/common.c
KERNEL_SRCS := cli/audit.c cli/collector.c cli/loader.c cli/pins.c \
	cli/cmd_live.c cli/cmd_attach.c cli/cmd_snapshot.c cli/cmd_status.c cli/main.c
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

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/%.tmp.bpf.o: bpf/%.bpf.c include/tcpstatehist.h $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.bpf.o: $(OUTPUT)/%.tmp.bpf.o
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(KERNEL_OBJS): $(OUTPUT)/tcpstatehist.skel.h

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

# The README's two commands: five 1-second summaries; every test, ending with
# "N passed, N failed". Both set up what they need first.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./tcpstatehist -T 1 5

test: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)tests/run.sh

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
