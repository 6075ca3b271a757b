# jalin - federated sync server. Plain make + pkg-config.
#
#   make                 build/jalind, build/jalinctl, build/libjalinproto.a
#   make test            format check, unit + integration tests, then the
#                        same under ASan/UBSan (build/san)
#   make test SANITIZE=1 only the sanitizer build's unit + integration tests
#   make bench           figures as "BENCH name value unit" lines
#   make bench-weak      only the weak-link figures (tests/bench/weaklink.py)
#   make demo            three nodes on 127.0.0.1 (jabar, banten, sulsel)
#   make deps            install the Debian packages that are missing
#   make man             regenerate man/jalinctl.8 from jalinctl's tables

CC	   ?= cc
PKG_CONFIG ?= pkg-config
PYTHON	   ?= /usr/bin/python3
PREFIX	   ?= /usr/local
DESTDIR	   ?=
SANITIZE   ?= 0
CLANG	   ?= clang
CLANG_FORMAT ?= clang-format

PKGS = openssl lmdb msgpack libevent_core libevent_openssl libevent_extra \
       libevent_pthreads jansson inih

WARN = -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow \
       -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wcast-qual \
       -Wformat=2 -Wwrite-strings -Wundef -Wvla

ifeq ($(SANITIZE),1)
BUILD ?= build/san
OPT    = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	 -fno-omit-frame-pointer
else
BUILD ?= build
OPT    = -O2 -g
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CFLAGS	   ?=
CPPFLAGS   ?=
# tools/ (jalinctl) links libjalinproto.a and never code from node/, so it
# sees protocol/'s headers only (DESIGN.md §1); everything else sees both.
TOOLS_CPPFLAGS := $(CPPFLAGS) -iquote protocol
CPPFLAGS   += -iquote protocol -iquote node
ALL_CFLAGS  = $(WARN) $(OPT) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS	    = $(PKG_LIBS) -lpthread -lm
LDFLAGS	   ?=
ALL_LDFLAGS = $(OPT) $(LDFLAGS)

PROTO_SRC = $(wildcard protocol/*.c)
NODE_SRC  = $(filter-out node/main.c,$(wildcard node/*.c))
TOOLS_SRC = $(wildcard tools/*.c)
UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_FX_SRC = $(wildcard tests/unit/fx_*.c)

PROTO_OBJ = $(PROTO_SRC:%.c=$(BUILD)/%.o)
NODE_OBJ  = $(NODE_SRC:%.c=$(BUILD)/%.o)
TOOLS_OBJ = $(TOOLS_SRC:%.c=$(BUILD)/%.o)
TLIB_OBJ  = $(filter-out $(BUILD)/tools/jalinctl.o,$(TOOLS_OBJ))
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN = $(BUILD)/tests/lmdb_ceiling $(BUILD)/tests/sig_bench \
	    $(BUILD)/tests/seal_bench

PROTO_LIB = $(BUILD)/libjalinproto.a
NODE_LIB  = $(BUILD)/libjalinnode.a
TOOLS_LIB = $(BUILD)/libjalintools.a
UNIT_FX_LIB = $(BUILD)/libjalinfx.a

.PHONY: all test test-unit test-integration test-fuzz check-deps bench doc \
	coverage \
	check-docs \
	bench-compare bench-relay bench-sig bench-weak demo demo-stop deps fuzz format format-check install \
	clean valgrind man

all: $(BUILD)/jalind $(BUILD)/jalinctl $(PROTO_LIB)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(PROTO_LIB): $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(NODE_LIB): $(NODE_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(TOOLS_OBJ): CPPFLAGS = $(TOOLS_CPPFLAGS)

# jalinctl's modules but its main(), for the unit tests of tools/ code.
$(TOOLS_LIB): $(TLIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/jalind: $(BUILD)/node/main.o $(NODE_LIB) $(PROTO_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/jalinctl: $(BUILD)/tools/jalinctl.o $(TOOLS_LIB) $(PROTO_LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: one cmocka program per module, linked against the three
# libraries (a program takes only the objects it calls into).
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UNIT_FX_LIB) $(TOOLS_LIB) \
    $(NODE_LIB) $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(shell $(PKG_CONFIG) --libs cmocka)

# Shared unit-test fixtures (tests/unit/fx_*.c, e.g. fx_repl.c, the
# in-process replication harness): an archive on every test program's link
# line, so only the programs that call into a fixture take it.
$(UNIT_FX_LIB): $(UNIT_FX_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.o)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -iquote tools $(ALL_CFLAGS) \
	    $(shell $(PKG_CONFIG) --cflags cmocka) -c -o $@ $<

$(BUILD)/tests/lmdb_ceiling: tests/bench/lmdb_ceiling.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 $(PKG_CFLAGS) -o $@ $< $(LDLIBS)

$(BUILD)/tests/sig_bench: tests/bench/sig_bench.c $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 $(PKG_CFLAGS) -o $@ $< $(PROTO_LIB) $(LDLIBS)

$(BUILD)/tests/seal_bench: tests/bench/seal_bench.c $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) -O2 $(PKG_CFLAGS) -o $@ $< $(PROTO_LIB) $(LDLIBS)

# doc/schema.md is generated from the schema tables; test checks it.
$(BUILD)/doc/schema_doc: doc/schema_doc.c $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

doc: $(BUILD)/doc/schema_doc
	$(BUILD)/doc/schema_doc > doc/schema.md

check-docs: $(BUILD)/doc/schema_doc
	@$(BUILD)/doc/schema_doc | diff -u doc/schema.md - >/dev/null || \
	    { echo "doc/schema.md is out of date: run make doc"; exit 1; }

# --- msg_grammar: the peer message grammar of protocol/msg.c, printed for
# tests/integration/test_protocol_doc.py (PROTOCOL.md and the Python client).
$(BUILD)/doc/msg_grammar: doc/msg_grammar.c $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

test-integration: $(BUILD)/doc/msg_grammar
# --- end msg_grammar

# node/ includes must follow the layer list in node/node.h.
.PHONY: check-layers
check-layers:
	@$(PYTHON) tools/check_layers.py node
	@$(PYTHON) tools/check_limits.py protocol/limits.h node protocol tools tests doc

check-deps:
	@tools/deps.sh check

# The whole suite as CI runs it: the normal build, then the sanitizer build.
ifeq ($(SANITIZE),1)
test: check-deps test-unit test-integration
else
test: check-deps format-check check-docs check-layers test-unit test-fuzz test-integration
	$(MAKE) --no-print-directory test SANITIZE=1
endif

test-unit: $(UNIT_BIN)
	@set -e; export JALIN_VECTORS=$(CURDIR)/tests/vectors; \
	for t in $(UNIT_BIN); do echo "== $$t"; $$t; done; \
	echo "cmocka: all $(words $(UNIT_BIN)) unit test programs passed ($(BUILD))"

test-integration: all
	JALIN_BUILD=$(CURDIR)/$(BUILD) JALIN_SANITIZE=$(SANITIZE) \
	    $(PYTHON) -m pytest -q -ra tests/integration $(PYTEST_ARGS)

# The weak-link tests at the issue's size (500 case records over 64 kbit/s
# with 600 ms each way), with the time asserted against the bandwidth bound;
# the connection flood at full size (512 slots, default deadlines).
.PHONY: test-long
test-long: all
	JALIN_BUILD=$(CURDIR)/$(BUILD) JALIN_SANITIZE=$(SANITIZE) JALIN_LONG=1 \
	    $(PYTHON) -m pytest -q -ra -s tests/integration/test_weaklink.py \
	    tests/integration/test_flood.py \
	    $(PYTEST_ARGS)

# Line and branch coverage of the unit tests alone (gcov + lcov), per file:
# the replication core is meant to be tested without sockets or processes.
COV_BUILD = build/cov
coverage:
	@rm -rf $(COV_BUILD)
	@$(MAKE) --no-print-directory BUILD=$(COV_BUILD) \
	    CFLAGS="--coverage -O0" LDFLAGS=--coverage test-unit >/dev/null
	@# A zero baseline from the .gcno files lists the modules no unit
	@# test reaches, too. (Debian's geninfo warns of redefined subs.)
	@lcov -q --capture --initial --rc lcov_branch_coverage=1 \
	    --directory $(COV_BUILD) --output-file $(COV_BUILD)/base.info \
	    2>/dev/null
	@lcov -q --capture --rc lcov_branch_coverage=1 \
	    --directory $(COV_BUILD) --output-file $(COV_BUILD)/run.info \
	    2>/dev/null
	@lcov -q --rc lcov_branch_coverage=1 -a $(COV_BUILD)/base.info \
	    -a $(COV_BUILD)/run.info --output-file $(COV_BUILD)/all.info
	@lcov -q --rc lcov_branch_coverage=1 --extract $(COV_BUILD)/all.info \
	    '$(CURDIR)/node/*' '$(CURDIR)/protocol/*' \
	    --output-file $(COV_BUILD)/jalin.info
	@lcov --rc lcov_branch_coverage=1 --list $(COV_BUILD)/jalin.info

# One integration run with jalind under valgrind (slow; not part of test).
valgrind: all
	JALIN_BUILD=$(CURDIR)/$(BUILD) JALIN_VALGRIND=1 \
	    $(PYTHON) -m pytest -q -ra tests/integration $(PYTEST_ARGS)

# jalinctl only when tools/ has sources: bench.py falls back to the socket.
BENCH_DEPS = $(BUILD)/jalind $(BENCH_BIN) $(if $(TOOLS_SRC),$(BUILD)/jalinctl)

bench: $(BENCH_DEPS)
	JALIN_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/bench/bench.py $(BENCH_ARGS)
	$(BUILD)/tests/sig_bench $(SIG_BENCH_ARGS)
	$(BUILD)/tests/seal_bench $(SEAL_BENCH_ARGS)
	JALIN_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/bench/relay.py \
	    $(RELAY_BENCH_ARGS)
	JALIN_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/bench/status_bench.py \
	    $(STATUS_BENCH_ARGS)
	JALIN_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/bench/weaklink.py \
	    $(WEAK_BENCH_ARGS)

# Replication over 512, 64 and 16 kbit/s with 600 ms each way (~3 min).
bench-relay: $(BENCH_DEPS)
	JALIN_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/bench/relay.py \
	    $(RELAY_BENCH_ARGS)

bench-sig: $(BUILD)/tests/sig_bench
	$(BUILD)/tests/sig_bench $(SIG_BENCH_ARGS)

.PHONY: bench-seal
bench-seal: $(BUILD)/tests/seal_bench
	$(BUILD)/tests/seal_bench $(SEAL_BENCH_ARGS)

bench-weak: $(BUILD)/jalind $(BUILD)/jalinctl
	JALIN_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/bench/weaklink.py \
	    $(WEAK_BENCH_ARGS)

bench-compare: $(BENCH_DEPS)
	JALIN_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) tests/bench/compare.py $(BENCH_ARGS)

FUZZ_SRC  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_TIME ?= 10
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -iquote protocol \
	     -iquote node -std=c11 -D_DEFAULT_SOURCE $(PKG_CFLAGS)
HAVE_FUZZER := $(shell printf 'int LLVMFuzzerTestOneInput(const char *d, \
	unsigned long n){return 0;}' | $(CLANG) -fsanitize=fuzzer -x c - \
	-o /dev/null 2>/dev/null && echo yes)

build/fuzz/%: tests/fuzz/%.c $(PROTO_SRC) $(NODE_SRC)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -iquote tools -o $@ $(filter %.c,$^) $(LDLIBS)

# Harnesses of tools/ code take the modules they test (jalinctl.c has a main).
build/fuzz/fuzz_jsonline: tools/json.c

# The stateful harness runs real nodes through the unit tests' in-process
# harness (tests/unit/fx_repl.c, which reports through cmocka).
build/fuzz/fuzz_peer: tests/unit/fx_repl.c tests/unit/fx_repl.h
build/fuzz/fuzz_peer: FUZZ_FLAGS += -iquote tests/unit -fno-sanitize-recover=all
build/fuzz/fuzz_peer: LDLIBS += $(shell $(PKG_CONFIG) --libs cmocka)

fuzz: $(FUZZ_BIN)

# Each harness (FUZZ_ONLY=peer: that one) for FUZZ_TIME seconds from its
# committed seed corpus (new inputs go to a scratch copy, never into the
# repository). fuzz-long: the same for FUZZ_LONG_TIME seconds each.
FUZZ_RUN = $(if $(FUZZ_ONLY),$(FUZZ_ONLY:%=build/fuzz/fuzz_%),$(FUZZ_BIN))
FUZZ_LONG_TIME ?= 600

.PHONY: fuzz-long
fuzz-long:
	@$(MAKE) --no-print-directory test-fuzz FUZZ_TIME=$(FUZZ_LONG_TIME)

test-fuzz:
ifeq ($(HAVE_FUZZER),yes)
	@$(MAKE) --no-print-directory $(FUZZ_RUN)
	@rm -f build/fuzz/crash-* build/fuzz/leak-* build/fuzz/timeout-* \
	    build/fuzz/oom-*
	@set -e; for f in $(FUZZ_RUN); do n=$${f#build/fuzz/fuzz_}; \
	    rm -rf build/fuzz/run-$$n; mkdir -p build/fuzz/run-$$n; \
	    cp tests/fuzz/corpus/$$n/* build/fuzz/run-$$n/; \
	    echo "== $$f ($(FUZZ_TIME) s)"; \
	    rc=0; $$f -max_total_time=$(FUZZ_TIME) -timeout=10 \
	        -rss_limit_mb=1024 -artifact_prefix=build/fuzz/ \
	        -print_final_stats=1 build/fuzz/run-$$n \
	        >build/fuzz/run-$$n.log 2>&1 || rc=$$?; \
	    grep -E "^(stat::number_of_executed_units|==[0-9]+==|SUMMARY)|Done" \
	        build/fuzz/run-$$n.log || true; \
	    if [ $$rc -ne 0 ]; then tail -n 20 build/fuzz/run-$$n.log; \
	        echo "fuzz: $$f exited with status $$rc"; exit 1; fi; \
	    for a in build/fuzz/crash-* build/fuzz/leak-* \
	        build/fuzz/timeout-* build/fuzz/oom-*; do \
	        if [ -e "$$a" ]; then echo "fuzz: $$f failed: $$a"; exit 1; fi; \
	    done; \
	    done; echo "fuzz: all harnesses ran without a crash"
else
	@echo "fuzz: skipped (clang's libFuzzer runtime is not installed: apt-get install clang libclang-rt-14-dev)"
endif

# deps first: on a fresh system there is no compiler yet, and PKG_CFLAGS
# above was read before the libraries were installed, so build in a new make.
demo:
	@tools/deps.sh install
	@$(MAKE) --no-print-directory all
	@tools/demo.sh start

demo-stop:
	@tools/demo.sh stop

deps:
	@tools/deps.sh install

format:
	$(CLANG_FORMAT) -i $(wildcard protocol/*.[ch] node/*.[ch] tools/*.[ch] doc/*.c \
	    tests/unit/*.[ch] tests/fuzz/*.[ch] tests/bench/*.c)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(wildcard protocol/*.[ch] doc/*.c \
	    node/*.[ch] tools/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch] \
	    tests/bench/*.c)

# jalinctl(8) is generated from the tables --help comes from (tools/
# cmdtab.c); a test fails while the committed page is out of date.
man: $(BUILD)/jalinctl
	$(BUILD)/jalinctl --man > man/jalinctl.8

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BUILD)/jalind $(DESTDIR)$(PREFIX)/sbin/jalind
	install -m 0755 $(BUILD)/jalinctl $(DESTDIR)$(PREFIX)/bin/jalinctl
	install -m 0755 certs/jalin-ca $(DESTDIR)$(PREFIX)/bin/jalin-ca
	install -m 0644 man/jalind.8 man/jalinctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 man/jalin.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0644 dist/jalind@.service \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system/jalind@.service

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
