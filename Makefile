# firstlight build. Everything generated goes to build/; `make clean` removes it.
# Quiet by default; `make V=1` prints the commands.

CLANG ?= clang
BPFTOOL ?= bpftool
PROTOC_C ?= protoc-c
CC ?= gcc
PKG_CONFIG ?= pkg-config
PROMTOOL ?= promtool

BUILD := build
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
VMLINUX_DIR := bpf/vmlinux/$(ARCH)
# A cross build (make ARCH=arm64): Debian 12's cross toolchain and its multiarch
# libraries (scripts/deps.sh installs both), everything in build/<arch>/: the agent with
# every feature (build/arm64/firstlight, linked against the arm64 libnats, libmicrohttpd,
# ...), and the static agent and helpers the kernel test's guest runs.
# Each architecture's build dir, whichever the host (for targets that build both).
X86_BUILD := $(if $(filter x86,$(HOST_ARCH)),build,build/x86)
ARM64_BUILD := $(if $(filter arm64,$(HOST_ARCH)),build,build/arm64)
CROSS_TRIPLE_x86 := x86_64-linux-gnu
CROSS_TRIPLE_arm64 := aarch64-linux-gnu
ifneq ($(ARCH),$(HOST_ARCH))
CROSS := $(CROSS_TRIPLE_$(ARCH))
ifeq ($(CROSS),)
$(error ARCH=$(ARCH): unknown architecture (x86 or arm64))
endif
BUILD := build/$(ARCH)
CC := $(CROSS)-gcc
AR := $(CROSS)-ar
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(CROSS)/pkgconfig:/usr/share/pkgconfig pkg-config
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all clean deps helpers image images run static test test-deploy test-caps test-layers test-unit test-e2e test-stress test-asan test-fuzz test-rules test-kernel check-tools bench test-bench

all: $(BUILD)/firstlight

# ---- toolchain checks, with a message that says what to do ------------------------------
TOOLS_OK := $(BUILD)/.tools-ok
$(TOOLS_OK): scripts/deps.sh
	$(Q)command -v $(CLANG) >/dev/null || { echo "error: $(CLANG) not found; run scripts/deps.sh (as root)" >&2; exit 1; }
	$(Q)command -v $(BPFTOOL) >/dev/null || { echo "error: $(BPFTOOL) not found; run scripts/deps.sh (as root)" >&2; exit 1; }
	$(Q)command -v $(PROTOC_C) >/dev/null || { echo "error: $(PROTOC_C) not found; run scripts/deps.sh (as root)" >&2; exit 1; }
	$(Q)v=$$($(CLANG) -dumpversion | cut -d. -f1); [ "$$v" -ge 14 ] || { echo "error: clang >= 14 needed, found $$v" >&2; exit 1; }
	$(Q)command -v $(CC) >/dev/null || { echo "error: $(CC) not found; run scripts/deps.sh (as root)" >&2; exit 1; }
	$(Q)$(PKG_CONFIG) --exists 'libbpf >= 1.1' libprotobuf-c zlib libdeflate jansson libmicrohttpd 'libnats >= 3.4' || { echo "error: libbpf >= 1.1, libprotobuf-c, zlib, libdeflate, jansson, libmicrohttpd or libnats >= 3.4 missing$(if $(CROSS), for $(ARCH)); run scripts/deps.sh (as root)" >&2; exit 1; }
	$(Q)$(PKG_CONFIG) --exists 'libcrypto >= 3.0' || { echo "error: libcrypto >= 3.0 (OpenSSL, Ed25519 signatures) missing; run scripts/deps.sh (as root)" >&2; exit 1; }
	$(Q)mkdir -p $(BUILD) && touch $@

deps:
	$(Q)scripts/deps.sh

# ---- BPF: each .bpf.c -> .bpf.o, linked into one object, one skeleton -------------------
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I bpf -I $(VMLINUX_DIR) -MMD -MP

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(TOOLS_OK)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/firstlight.bpf.o: $(BPF_OBJS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(BUILD)/firstlight.skel.h: $(BUILD)/bpf/firstlight.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name firstlight_bpf > $@

# ---- protobuf ---------------------------------------------------------------------------
$(BUILD)/proto/firstlight.pb-c.c $(BUILD)/proto/firstlight.pb-c.h &: proto/firstlight.proto $(TOOLS_OK)
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(BUILD)/proto
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(BUILD)/proto $<

# ---- user space -------------------------------------------------------------------------
# user/<folder>/*.c by role (user/README.md). Everything but the commands (cmd/) is the
# library, libfirstlight.a; the binary is the commands linked against it, and tests,
# fuzz targets and benches link the same library, never a command.
USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
	-Wstrict-prototypes -Wno-missing-field-initializers -D_GNU_SOURCE \
	-I user -I bpf -I $(BUILD) -I $(BUILD)/proto -MMD -MP $(EXTRA_CFLAGS)
# The generated protobuf code is not ours to warn about.
GEN_CFLAGS = $(filter-out -Werror -Wextra -Wmissing-prototypes,$(1))
PKGS := libbpf libprotobuf-c zlib libdeflate jansson libmicrohttpd libnats
LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lbpf -lelf -lz -ldeflate -lprotobuf-c -ljansson -lmicrohttpd -lnats) -lelf -lz -lm -lpthread
# The static build: the same libraries as archives, with their private dependencies.
# Except libmicrohttpd: Debian 12 builds it with GnuTLS, which needs p11-kit, and Debian
# ships no static p11-kit (libp11-kit-dev has only the .so). So the static agent has no
# metrics endpoint: it is built with FL_NO_HTTP (base/httpd fails with
# ENOTSUP, the agent runs on without the endpoint). Nor is there a static libnats: the
# static build ships nothing (FL_NO_NATS: --ship and collect say so and exit).
STATIC_PKGS := $(filter-out libmicrohttpd libnats,$(PKGS))
STATIC_LIBS := $(shell $(PKG_CONFIG) --static --libs $(STATIC_PKGS) 2>/dev/null || \
	echo -lbpf -lelf -lz -ldeflate -lprotobuf-c -ljansson) -lelf -lz -lm -lpthread
# The segment store's hash chain and signatures (SHA-256, Ed25519), in both builds.
CRYPTO_LIBS := $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
LIBS += $(CRYPTO_LIBS)
STATIC_LIBS += $(shell $(PKG_CONFIG) --static --libs libcrypto 2>/dev/null || echo -lcrypto -ldl -pthread)

USER_DIRS := $(sort $(dir $(wildcard user/*/*.c)))
CMD_SRCS := $(wildcard user/cmd/*.c)
LIB_SRCS := $(filter-out $(CMD_SRCS),$(wildcard user/*/*.c))
GEN_SRCS := $(BUILD)/proto/firstlight.pb-c.c

# Objects of a build variant: $(call objs,VARIANT,SOURCES)
objs = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(patsubst $(BUILD)/%,%,$(2)))

# A build variant, defined once: $(call variant,NAME,COMPILER,CFLAGS,LIBRARY SOURCES[,OBJECTS]).
# It compiles user and generated sources into build/NAME/ and archives its library, with
# OBJECTS: another variant's, taken as they are.
define variant
$(BUILD)/$(1)/user/%.o: user/%.c $(BUILD)/firstlight.skel.h $(BUILD)/proto/firstlight.pb-c.h
	$$(call msg,CC-$(1),$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$(2) $(3) -c $$< -o $$@

$(BUILD)/$(1)/proto/%.o: $(BUILD)/proto/%.c $(BUILD)/proto/firstlight.pb-c.h
	$$(call msg,CC-$(1),$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$(2) $$(call GEN_CFLAGS,$(3)) -c $$< -o $$@

$(BUILD)/$(1)/libfirstlight.a: $(call objs,$(1),$(4) $(GEN_SRCS)) $(5)
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && $(AR) rcs $$@ $$^
endef

# normal: the agent and CLI; asan: the same under ASan + UBSan; static: one
# self-contained binary for machines with nothing installed (the kernel test's initramfs;
# the BPF object is in the skeleton): the normal objects but the two sources its defines
# change (NOSHIP_SRCS), so that an architecture's agent and static agent (make test
# builds both, for x86 and arm64) compile the sources once; fuzz: libFuzzer targets
# (clang), over the folders that read untrusted files, not the sensor's.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(filter-out -O2 -Werror,$(USER_CFLAGS)) -O1
FUZZ_DIRS := base records identity store readers
FUZZ_LIB_SRCS := $(filter $(addprefix user/,$(addsuffix /%,$(FUZZ_DIRS))),$(LIB_SRCS))
$(eval $(call variant,o,$(CC),$(USER_CFLAGS),$(LIB_SRCS)))
$(eval $(call variant,asan,$(CC),$(USER_CFLAGS) $(SAN_FLAGS) -O1,$(LIB_SRCS)))
NOSHIP_SRCS := user/base/httpd.c user/transport/jetstream.c
$(eval $(call variant,static,$(CC),$(USER_CFLAGS) -DFL_NO_HTTP -DFL_NO_NATS,$(NOSHIP_SRCS),\
	$(call objs,o,$(filter-out $(NOSHIP_SRCS),$(LIB_SRCS)))))
$(eval $(call variant,fuzz,$(CLANG),$(FUZZ_CFLAGS) -Werror $(FUZZ_SAN),$(FUZZ_LIB_SRCS)))

LIB := $(BUILD)/o/libfirstlight.a
SAN_LIB := $(BUILD)/asan/libfirstlight.a

$(BUILD)/firstlight: $(call objs,o,$(CMD_SRCS)) $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) -o $@ $^ $(LIBS)

static: $(BUILD)/firstlight-static

# The agent's OCI image for ARCH (scripts/image.sh): the dynamic binary and exactly the
# shared libraries it needs (found with readelf, never by running it), from their Debian
# packages; built offline with podman, tagged localhost/firstlight:<version> for the
# host's architecture, localhost/firstlight:<version>-arm64 for make image ARCH=arm64;
# saved to build/image/ (build/arm64/image/) firstlight-image.tar.
image: $(BUILD)/firstlight
	$(Q)scripts/deps.sh image $(if $(CROSS),cross)
	$(Q)scripts/image.sh $(BUILD)/firstlight $(BUILD)/image

# Both architectures' images, and one OCI archive holding both under one image index
# (scripts/image-multiarch.sh): build/multiarch/firstlight-image.tar, for a registry push
# that serves x86-64 and arm64 nodes under one name.
MULTIARCH_TAR := build/multiarch/firstlight-image.tar
images:
	$(Q)$(MAKE) --no-print-directory ARCH=x86 image
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 image
	$(Q)scripts/image-multiarch.sh $(MULTIARCH_TAR) $(X86_BUILD)/image $(ARM64_BUILD)/image

$(BUILD)/firstlight-static: $(call objs,o,$(CMD_SRCS)) $(BUILD)/static/libfirstlight.a
	$(call msg,LD-STAT,$@)
	$(Q)$(CC) -static -o $@ $^ $(STATIC_LIBS)

$(BUILD)/asan/firstlight: $(call objs,asan,$(CMD_SRCS)) $(SAN_LIB)
	$(call msg,LD-SAN,$@)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

# ---- tests ------------------------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
SAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(HELPER_SRCS))
# fl-segtool writes and rewrites segments (gzip); fl-tamper too, and forges signatures
# (libcrypto); fl-browse drives chromium through its JSON protocol (jansson).
HELPER_LIBS := -lz $(CRYPTO_LIBS) -ljansson

# Every unit test may include the shared capture sink: rebuilt when it changes.
$(BUILD)/tests/%: tests/unit/%.c tests/unit/capture_sink.h $(LIB)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $(filter-out %.h,$^) $(LIBS) -lcmocka $(TEST_LDFLAGS)

$(BUILD)/asan/tests/%: tests/unit/%.c tests/unit/capture_sink.h $(SAN_LIB)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -O1 -o $@ $(filter-out %.h,$^) $(LIBS) -lcmocka $(TEST_LDFLAGS)

# test_store fails the library's mallocs on demand, to reach the store's paths without memory.
$(BUILD)/tests/test_store $(BUILD)/asan/tests/test_store: TEST_LDFLAGS := -Wl,--wrap=malloc

$(BUILD)/helpers/%: tests/helpers/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lpthread $(HELPER_LIBS)

# fl-hostile writes a store through the library itself (hostile values, real chain).
$(BUILD)/helpers/fl-hostile: tests/helpers/fl-hostile.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $^ $(LIBS)

# fl-pubcost publishes through the agent's own JetStream code (transport/jetstream).
$(BUILD)/helpers/fl-pubcost: tests/helpers/fl-pubcost.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $^ $(LIBS)

# fl-jsinfo talks to JetStream with the agent's client (libnats); zlib for compressed messages.
$(BUILD)/helpers/fl-jsinfo: tests/helpers/fl-jsinfo.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lnats -lz

# fl-bare-ring loads the bench's reference programs (bpf/bench/, not the sensor's
# object): their own object and skeleton, libbpf.
$(BUILD)/bench/bare_ring.skel.h: $(BUILD)/bpf/bench/bare_ring.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name bare_ring_bpf > $@

$(BUILD)/helpers/fl-bare-ring: tests/helpers/fl-bare-ring.c $(BUILD)/bench/bare_ring.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I $(BUILD)/bench -o $@ $< \
		$(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)

$(BUILD)/helpers-static/%: tests/helpers/%.c
	$(call msg,CC-STAT,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -static -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lpthread $(HELPER_LIBS)

# The README's quick start: install what is missing, build, run on the default output
# with the live view; RUN_ARGS passes options to `firstlight run`.
run:
	$(Q)scripts/deps.sh build
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run.sh $(RUN_ARGS)

TEST_TIERS := test-layers test-deploy test-unit test-e2e test-asan test-fuzz test-rules test-bench test-kernel

# Each tier in turn, its time said as it ends: the 20-minute budget is watched per tier.
# A tier builds what it needs with a job per core (TEST_JOBS) unless make was given -j:
# the tiers' own steps stay one after another (the recipes are sequential), only builds
# and the fuzzers (two at once, each single-threaded) share the cores.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TEST_J = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(TEST_JOBS))
test:
	$(Q)scripts/deps.sh
	$(Q)t0=$$(date +%s); for t in $(TEST_TIERS); do s=$$(date +%s); \
		$(MAKE) --no-print-directory $(TEST_J) $$t || exit 1; \
		echo "test: $$t passed in $$(( $$(date +%s) - s )) s"; done; \
		echo "test: all tiers passed in $$(( $$(date +%s) - t0 )) s"

# The Kubernetes manifest (deploy/kubernetes/) against the API's models and the project's
# policy (no privileged, capabilities named, read-only root...), and broken copies of it
# refused (tests/deploy/test-manifest.sh); then the DaemonSet's images, x86-64 and arm64
# (make images), checked from their files (tests/deploy/test-image.sh).
test-deploy: images
	$(Q)tests/deploy/test-manifest.sh
	$(Q)tests/deploy/test-image.sh --multiarch $(MULTIARCH_TAR) $(X86_BUILD)/image $(ARM64_BUILD)/image

# The folders of user/ as layers: no upward include, no include cycle (scripts/check-layers.sh).
test-layers:
	$(Q)scripts/check-layers.sh

test-unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

helpers: $(HELPER_BINS)

# Tests at a time (tests/e2e/run.sh: those marked "# serial" run alone); E2E_JOBS=1 runs
# them one by one, each one's output as it comes.
E2E_JOBS ?= 2

# t_daemonset runs the image (make image) with the manifest's settings.
test-e2e: $(BUILD)/firstlight $(HELPER_BINS) image
	$(Q)FL_E2E_JOBS=$(E2E_JOBS) FIRSTLIGHT=$(abspath $(BUILD)/firstlight) HELPERS=$(abspath $(BUILD)/helpers) tests/e2e/run.sh

# The end-to-end suite on a busy machine: an exec storm and a CPU hog beside it
# (tests/e2e/stress.sh). Not part of `make test`.
test-stress: $(BUILD)/firstlight $(HELPER_BINS) image
	$(Q)FIRSTLIGHT=$(abspath $(BUILD)/firstlight) HELPERS=$(abspath $(BUILD)/helpers) tests/e2e/stress.sh

# The quick end-to-end suite with the agent under exactly the DaemonSet's capabilities
# (deploy/kubernetes/firstlight.yaml's, read by scripts/podman-args.py --caps), every
# other one out of its bounding set (tests/lib/fl-caps.sh). test-asan runs the same suite
# the same way with the sanitized agent, so `make test` holds both without a third run.
MANIFEST_CAPS = $$(scripts/podman-args.py deploy/kubernetes/firstlight.yaml --caps)
test-caps: $(BUILD)/firstlight $(HELPER_BINS)
	$(Q)caps=$(MANIFEST_CAPS) && echo "test-caps: the quick suite under $$caps only" && \
		FL_CAPS=$$caps FL_CAPS_REAL=$(abspath $(BUILD)/firstlight) FIRSTLIGHT=$(abspath tests/lib/fl-caps.sh) \
		HELPERS=$(abspath $(BUILD)/helpers) FL_E2E_QUICK=1 FL_E2E_JOBS=$(E2E_JOBS) tests/e2e/run.sh

# Sanitizers: unit tests, then the quick end-to-end suite against the sanitized agent,
# under the DaemonSet's capabilities only (as test-caps).
test-asan: $(SAN_UNIT_BINS) $(BUILD)/asan/firstlight $(HELPER_BINS)
	$(Q)tests/run-unit.sh $(SAN_UNIT_BINS)
	$(Q)caps=$(MANIFEST_CAPS) && echo "test-asan: the quick suite under $$caps only" && \
		FL_CAPS=$$caps FL_CAPS_REAL=$(abspath $(BUILD)/asan/firstlight) FIRSTLIGHT=$(abspath tests/lib/fl-caps.sh) \
		HELPERS=$(abspath $(BUILD)/helpers) FL_E2E_QUICK=1 FL_E2E_JOBS=$(E2E_JOBS) tests/e2e/run.sh

# The Prometheus alerting rules in deploy/: syntax and PromQL (check), then the rule unit
# tests that fire and do not fire each alert on synthetic series (test).
RULES := deploy/prometheus/firstlight-rules.yml
test-rules:
	$(Q)command -v $(PROMTOOL) >/dev/null || { echo "error: $(PROMTOOL) not found; run scripts/deps.sh (as root)" >&2; exit 1; }
	$(Q)$(PROMTOOL) check rules $(RULES)
	$(Q)$(PROMTOOL) test rules $(RULES:.yml=.test.yml)

# The programs on the kernel matrix (scripts/kernel-test.sh): Debian 11's 5.10 and Debian
# 12's 6.1 under qemu on x86-64, Debian 12's arm64 kernel under qemu-system-aarch64 (the
# static agent and helpers cross-built for it), and the host's kernel. Kernels are cached
# in build/kernel; KERNELS="debian11-5.10-x86 host" runs some. Writes build/kernel/kernels.md.
KT_STATIC := firstlight-static helpers-static/fl-threads helpers-static/fl-net
test-kernel: $(BUILD)/firstlight $(HELPER_BINS)
	$(Q)$(MAKE) --no-print-directory ARCH=x86 $(addprefix $(X86_BUILD)/,$(KT_STATIC))
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 $(addprefix $(ARM64_BUILD)/,$(KT_STATIC))
	$(Q)FIRSTLIGHT_STATIC=$(abspath $(X86_BUILD)/firstlight-static) \
		FL_THREADS_STATIC=$(abspath $(X86_BUILD)/helpers-static/fl-threads) \
		FL_NET_STATIC=$(abspath $(X86_BUILD)/helpers-static/fl-net) \
		FIRSTLIGHT_STATIC_ARM64=$(abspath $(ARM64_BUILD)/firstlight-static) \
		FL_THREADS_STATIC_ARM64=$(abspath $(ARM64_BUILD)/helpers-static/fl-threads) \
		FL_NET_STATIC_ARM64=$(abspath $(ARM64_BUILD)/helpers-static/fl-net) \
		FIRSTLIGHT=$(abspath $(BUILD)/firstlight) HELPERS=$(abspath $(BUILD)/helpers) \
		scripts/kernel-test.sh $(KERNELS)

# docs/kernels.md: the table of what each kernel supports, as the last test-kernel wrote it.
.PHONY: kernels-doc
kernels-doc:
	$(Q)test -s $(BUILD)/kernel/kernels.md || { echo "error: no $(BUILD)/kernel/kernels.md: run make test-kernel first" >&2; exit 1; }
	$(Q)mkdir -p docs && cp $(BUILD)/kernel/kernels.md docs/kernels.md && echo "wrote docs/kernels.md"

# A short fuzzing run of every decoder of untrusted input; `make fuzz` runs longer.
test-fuzz:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=6

# firstlight against its peers (scripts/bench.sh; ~30 min with the 10-minute churn).
# BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="-d 60 -w storm,sweep".
bench: $(BUILD)/firstlight $(HELPER_BINS)
	$(Q)scripts/bench.sh $(BENCH_ARGS)

# The bench's smoke run (N=200, every configuration and workload, a few minutes) so the script
# cannot rot: it must finish, and every workload and configuration must be in its JSON
# with the storm's processes all recorded by firstlight. No timing is judged.
BENCH_SMOKE_JSON := $(BUILD)/bench/smoke.json
test-bench: $(BUILD)/firstlight $(HELPER_BINS)
	$(Q)scripts/bench.sh -s -o $(BENCH_SMOKE_JSON)
	$(Q)failed=$$(jq -r -f scripts/bench-smoke.jq $(BENCH_SMOKE_JSON)) || failed="the results do not parse"; \
	if [ -n "$$failed" ]; then \
		echo "test-bench: the smoke run's results are incomplete ($(BENCH_SMOKE_JSON)):" >&2; \
		echo "$$failed" | sed 's/^/  failed: /' >&2; exit 1; fi
	$(Q)echo "test-bench: smoke run complete ($(BENCH_SMOKE_JSON))"

# The segment store's write path alone, fdatasync after every batch vs every second,
# batches of 100 and 1,000 records, on a real disk (/var/tmp).
.PHONY: bench-store
bench-store: $(BUILD)/bench_store
	$(Q)d=$$(mktemp -d /var/tmp/fl-bench-store.XXXXXX) && for b in 100 1000; do for f in 0 1000; do \
		$< -n 200000 -b $$b -f $$f $$d/$$b-$$f || exit 1; done; done; rm -rf $$d

$(BUILD)/bench_store: tests/bench/bench_store.c $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $^ $(LIBS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- fuzzing (added with tests/fuzz): libFuzzer + ASan/UBSan on untrusted-input decoders --
# `make fuzz` builds and runs each target for FUZZ_SECONDS, as many at once as make's -j
# allows (each is single-threaded; `make test` runs two): fuzz_NAME starts from its seeds
# in tests/fuzz/, keeps new inputs in build/fuzz/, writes crashes to
# build/fuzz/NAME-crash-* and its output to build/fuzz/NAME.log (printed when it fails).
#   reader     the segment reader              seeds corpus/          new inputs corpus/
#   oci        an OCI config.json              corpus_oci/            corpus_oci/
#   gaps       records through `gaps`          corpus_gaps/           corpus_gaps/
#   verify     verify.c                        corpus-verify/         corpus-verify/
#   tree       records through `tree`          corpus_tree/           corpus_tree/
#   report     a store through `report`        corpus_gaps/           corpus_report/
#   batchwire  a batch's wire scan and unpack  corpus_batchwire/      corpus_batchwire/
#   owners     an owners file                  corpus_owners/         corpus_owners/
FUZZ_SECONDS ?= 30
FUZZ_UBSAN_OPTIONS := halt_on_error=1:print_stacktrace=1
FUZZ_LIBS := $(shell $(PKG_CONFIG) --libs libprotobuf-c zlib libdeflate jansson 2>/dev/null || \
	echo -lprotobuf-c -lz -ldeflate -ljansson) $(CRYPTO_LIBS)
FUZZ_NAMES := reader oci gaps verify tree report batchwire owners
FUZZ_CORPUS_reader := corpus
FUZZ_CORPUS_verify := corpus-verify
FUZZ_SEEDS_report := corpus_gaps
fuzz_corpus = $(or $(FUZZ_CORPUS_$(1)),corpus_$(1))
fuzz_seeds = $(or $(FUZZ_SEEDS_$(1)),$(call fuzz_corpus,$(1)))
FUZZ_RUNS := $(addprefix fuzz-run-,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-seeds $(FUZZ_RUNS)
fuzz: $(FUZZ_RUNS)

# One fuzzer, its output kept aside so that two at once do not interleave; its final
# stats printed after it, the whole output when it fails.
$(FUZZ_RUNS): fuzz-run-%: $(BUILD)/fuzz/fuzz_%
	$(Q)mkdir -p $(BUILD)/fuzz/$(call fuzz_corpus,$*)
	$(Q)log=$(BUILD)/fuzz/$*.log; \
	if UBSAN_OPTIONS=$(FUZZ_UBSAN_OPTIONS) $< -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/$*- $(BUILD)/fuzz/$(call fuzz_corpus,$*) \
		tests/fuzz/$(call fuzz_seeds,$*) >$$log 2>&1; then \
		echo "fuzz_$*: $$(grep -h '^stat::number_of_executed_units' $$log | sed 's/.*: *//') inputs in $(FUZZ_SECONDS) s, no failure ($$log)"; \
	else cat $$log >&2; echo "fuzz_$*: FAILED (its output above, kept in $$log)" >&2; exit 1; fi

# The store's seeds (tests/fuzz/make_seeds.c): segments written by the real sink.
fuzz-seeds: $(BUILD)/fuzz/make_seeds
	$(Q)mkdir -p tests/fuzz/corpus tests/fuzz/corpus-verify
	$(Q)$< tests/fuzz

$(BUILD)/fuzz/make_seeds: tests/fuzz/make_seeds.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/fuzz/%.o: tests/fuzz/%.c $(BUILD)/proto/firstlight.pb-c.h Makefile
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -Werror $(FUZZ_SAN) -c $< -o $@

# Every target: its own file against the fuzz variant's library.
$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/libfirstlight.a
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)
