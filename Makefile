# tlsshim - TLS for the sockets of programs that were never written for it.
#
#   make            build/libsslsocket.{so,a}, build/libtlsshim.so, build/tlsshim
#   make check      every test: check unit suites, then integration with real tools
#   make demo       nc talking TLS through tlsshim, end to end
#   make asan|tsan  make check (unit and integration) under AddressSanitizer+UBSan
#                   / ThreadSanitizer: a report in tlsshim's code fails the test
#   make valgrind   the unit tests under valgrind memcheck (leaks and errors)
#   make bench      benchmarks against the anchors (bench/README.md)
#   make install PREFIX=/usr/local DESTDIR=
#   make deb        BUILD/tlsshim_VERSION_ARCH.deb (installs under /usr)
#
# Missing dependencies are installed by tests/deps.sh (apt-get when root,
# otherwise it prints the command). V=1 shows full commands.

VERSION := 0.1.0
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---- dependencies (checked once per top-level make) ------------------------
NODEPS_GOALS := clean help distclean
ifeq ($(filter $(NODEPS_GOALS),$(MAKECMDGOALS)),)
ifndef TLSSHIM_DEPS_CHECKED
DEPS_GROUP := build
ifneq ($(filter check check-unit check-integration demo asan tsan,$(MAKECMDGOALS)),)
DEPS_GROUP := test
endif
ifneq ($(filter fuzz,$(MAKECMDGOALS)),)
DEPS_GROUP := fuzz
endif
ifneq ($(filter bench,$(MAKECMDGOALS)),)
DEPS_GROUP := bench
endif
ifneq ($(filter deb,$(MAKECMDGOALS)),)
DEPS_GROUP := deb
endif
ifneq ($(filter valgrind,$(MAKECMDGOALS)),)
DEPS_GROUP := valgrind
endif
DEPS_RESULT := $(shell sh tests/deps.sh $(DEPS_GROUP) >&2; echo $$?)
ifneq ($(DEPS_RESULT),0)
$(error dependencies are missing: see the lines above)
endif
export TLSSHIM_DEPS_CHECKED := 1
endif
endif

# ---- flags ----------------------------------------------------------------
PKG_CFLAGS   := $(shell $(PKG_CONFIG) --cflags openssl libconfig 2>/dev/null)
SSL_LIBS     := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null)
CONFIG_LIBS  := $(shell $(PKG_CONFIG) --libs libconfig 2>/dev/null)
# The interposer links libconfig's archive: its calls into libconfig (and
# libconfig's calls into itself) are then bound inside libtlsshim.so, and a
# program that exports config_init (lighttpd) cannot capture them.
# libconfig's symbols carry no version, so nothing else protects them.
# The launcher links the same archive: one shared library fewer to map at
# every start (start-up cost).
CONFIG_A     := $(wildcard $(shell $(PKG_CONFIG) --variable=libdir libconfig 2>/dev/null)/libconfig.a)
# Debian's archive is built for executables: its references to stdin,
# stdout and stderr are renamed to variables of config/lcstdio.c (local to
# the library), and the version script makes every libconfig symbol local,
# which lets the linker resolve the archive's direct references. Its calls
# to glibc internals (_IO_getc, __fxstat, __strdup) are renamed to
# functions there too, which a program cannot capture.
OBJCOPY ?= objcopy
ifneq ($(CONFIG_A),)
CONFIG_LOCAL_A := $(BUILD)/gen/libconfig_local.a
PRELOAD_CONFIG_LIBS := -Wl,--exclude-libs,libconfig_local.a $(CONFIG_LOCAL_A)
LAUNCHER_CONFIG_LIBS := $(CONFIG_LOCAL_A)
else
CONFIG_LOCAL_A :=
PRELOAD_CONFIG_LIBS := $(CONFIG_LIBS)
LAUNCHER_CONFIG_LIBS := $(CONFIG_LIBS)
endif
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wcast-qual -Wwrite-strings \
        -Wstrict-prototypes -Wmissing-prototypes
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2
ALL_CFLAGS := -std=gnu11 $(WARN) $(HARDEN) -fPIC -fvisibility=hidden -D_GNU_SOURCE \
        -Icore -Iconfig -Ipreload -I$(BUILD)/gen $(PKG_CFLAGS) \
        -DTLSSHIM_VERSION='"$(VERSION)"' \
        $(OPT) $(SAN) $(CFLAGS) -MMD -MP
ALL_LDFLAGS := -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)

# A libtlsshim.so built with ASan or TSan runs only with its sanitizer's
# runtime preloaded too, loaded before libc (preload/sanrt.h says where it
# goes). The launcher and the exec hooks are compiled with the runtime's
# path; BUILD/sanitizer.env tells the tests (tests/integration/lib.sh,
# run.sh).
# One shared runtime for the library, the test programs and the real
# programs the tests preload it into. clang links its runtimes into
# executables statically unless told -shared-libsan; its shared ASan
# runtime is used. Its shared TSan runtime (clang 14, Debian 12) crashes
# at start even in a program that only prints: a clang TSan build links
# gcc's libtsan instead (the instrumentation calls are compiler-rt's in
# both), and its link step gets no -fsanitize, which would add clang's
# static one.
SAN_NAME :=
SAN_RUNTIME :=
CC_IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -q clang && echo 1)
SAN_ARCH := $(shell uname -m)
# (libFuzzer targets, make fuzz: clang's static runtimes, run directly)
ifneq ($(findstring fuzzer,$(SAN)),)
else ifneq ($(findstring address,$(SAN)),)
SAN_NAME := asan
SAN_RT_FILE := $(if $(CC_IS_CLANG),libclang_rt.asan-$(SAN_ARCH).so,libasan.so)
SAN_RUNTIME := $(realpath $(shell $(CC) -print-file-name=$(SAN_RT_FILE) 2>/dev/null))
SAN_RUNTIME_FIRST := 1
else ifneq ($(findstring thread,$(SAN)),)
SAN_NAME := tsan
SAN_RUNTIME := $(realpath $(shell $(if $(CC_IS_CLANG),gcc,$(CC)) -print-file-name=libtsan.so 2>/dev/null))
SAN_RUNTIME_FIRST := 0
endif
ifneq ($(CC_IS_CLANG),)
ifeq ($(SAN_NAME),asan)
# the runtime's directory is on no loader path: the programs and the
# launcher find it through their RUNPATH
ALL_LDFLAGS += -shared-libsan -Wl,-rpath,$(dir $(SAN_RUNTIME))
else ifeq ($(SAN_NAME),tsan)
ALL_LDFLAGS := $(filter-out -fsanitize=%,$(ALL_LDFLAGS)) $(SAN_RUNTIME)
endif
endif
ifneq ($(SAN_RUNTIME),)
SAN_RUNTIME_FLAGS := -DTLSSHIM_SAN_RUNTIME='"$(SAN_RUNTIME)"' \
                      -DTLSSHIM_SAN_RUNTIME_FIRST=$(SAN_RUNTIME_FIRST)
else
SAN_RUNTIME_FLAGS :=
endif


# ---- sources ----------------------------------------------------------------
# core/ossl.c fills the core's OpenSSL table at link time (libsslsocket);
# the interposer links core/ossl_dl.c instead, which loads OpenSSL itself
# (core/ossl_int.h).
CORE_SRC      := $(filter-out core/ossl_dl.c,$(wildcard core/*.c))
PRELOAD_CORE_SRC := $(filter-out core/ossl.c,$(wildcard core/*.c))
CONFIG_SRC    := $(wildcard config/*.c)
LAUNCHER_SRC  := $(wildcard preload/launcher/*.c)
# Two launchers from one set of objects (launcher_ssl_handoff.c): the full
# one, which loads libsslsocket.so for what needs OpenSSL, and the static
# one (build/tlsshim where the toolchain can link it), which leaves the
# OpenSSL modes out and execs the full one for them.
LAUNCHER_PER_BINARY := preload/launcher/launcher_ssl_load.c preload/launcher/launcher_ssl_handoff.c
LAUNCHER_FULL_SRC := $(filter-out preload/launcher/launcher_ssl_handoff.c,$(LAUNCHER_SRC))
LAUNCHER_STATIC_SRC := $(filter-out $(LAUNCHER_PER_BINARY) preload/launcher/launcher_cert.c \
                         preload/launcher/launcher_check.c,$(LAUNCHER_SRC)) \
                       preload/launcher/launcher_ssl_handoff.c
# The launcher's logic without its main(), for the unit runner.
LAUNCHER_LIB_SRC := $(filter-out preload/launcher/launcher.c,$(LAUNCHER_FULL_SRC))
HOOK_SRC      := $(wildcard preload/hook_*.c)
PRELOAD_SRC   := $(wildcard preload/*.c)
PRELOAD_INT_SRC := $(filter-out $(HOOK_SRC),$(PRELOAD_SRC))
UNIT_SRC      := $(wildcard tests/unit/check_*.c)
UNIT_SUPPORT  := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
PROG_SRC      := $(wildcard tests/progs/*.c)
BENCH_SRC     := $(wildcard bench/*.c)
FUZZ_SRC      := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY_SRC := tests/fuzz/replay.c

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

CORE_OBJ     := $(call obj,$(CORE_SRC))
PRELOAD_CORE_OBJ := $(call obj,$(PRELOAD_CORE_SRC))
CONFIG_OBJ   := $(call obj,$(CONFIG_SRC))
LAUNCHER_OBJ := $(call obj,$(LAUNCHER_SRC))
LAUNCHER_FULL_OBJ := $(call obj,$(LAUNCHER_FULL_SRC))
LAUNCHER_STATIC_OBJ := $(call obj,$(LAUNCHER_STATIC_SRC))
LAUNCHER_LIB_OBJ := $(call obj,$(LAUNCHER_LIB_SRC))
PRELOAD_OBJ  := $(call obj,$(PRELOAD_SRC))
PRELOAD_INT_OBJ := $(call obj,$(PRELOAD_INT_SRC))
UNIT_OBJ     := $(call obj,$(UNIT_SRC) $(UNIT_SUPPORT))
PROGS        := $(patsubst tests/progs/%.c,$(BUILD)/progs/%,$(PROG_SRC))
BENCH_BINS   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_REPLAYS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRC))

LIBS_A       := $(BUILD)/libsslsocket.a
LIB_SO       := $(BUILD)/libsslsocket.so
PRELOAD_SO   := $(BUILD)/libtlsshim.so
LAUNCHER     := $(BUILD)/tlsshim
LAUNCHER_FULL := $(BUILD)/tlsshim-full
UNIT_RUNNER  := $(BUILD)/check_unit

.PHONY: all check check-unit check-integration demo asan tsan valgrind fuzz fuzz-run bench \
        install deb uninstall clean help progs
.DEFAULT_GOAL := all

# Each OpenSSL function of core/ossl_int.h's list as its slot of the table.
OSSL_REDIRECT := $(BUILD)/gen/ossl_redirect.h
$(OSSL_REDIRECT): core/ossl_int.h
	@mkdir -p $(dir $@)
	$(Q)sed -n 's/^[[:space:]]*X(\([A-Za-z0-9_]*\)) *\\$$/#define \1 (core_ossl.\1)/p' $< >$@.tmp \
		&& mv $@.tmp $@

all: $(LIBS_A) $(LIB_SO) $(PRELOAD_SO) $(LAUNCHER) $(LAUNCHER_FULL) $(BUILD)/sslsocket.pc \
     $(BUILD)/sanitizer.env

$(BUILD)/obj/%.o: %.c | $(OSSL_REDIRECT)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBS_A): $(CORE_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(CORE_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libsslsocket.so -Wl,--no-undefined $(ALL_LDFLAGS) \
		-o $@ $^ $(SSL_LIBS) -lpthread

$(BUILD)/gen/libconfig_local.a: $(CONFIG_A) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  OBJCOPY $@")
	$(Q)$(OBJCOPY) --redefine-sym stdin=ts_lc_stdin --redefine-sym stdout=ts_lc_stdout \
		--redefine-sym stderr=ts_lc_stderr --redefine-sym _IO_getc=ts_lc_getc \
		--redefine-sym __fxstat=ts_lc_fxstat --redefine-sym __strdup=ts_lc_strdup $< $@

# The interposer exports only the hooks (preload/libtlsshim.map). It does
# not link OpenSSL (core/ossl_dl.c opens it): with --no-undefined, a core
# call to an OpenSSL function missing from core/ossl_int.h stops the link.
$(PRELOAD_SO): $(PRELOAD_OBJ) $(CONFIG_OBJ) $(PRELOAD_CORE_OBJ) $(CONFIG_LOCAL_A) preload/libtlsshim.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,libtlsshim.so -Wl,--no-undefined \
		-Wl,--version-script=preload/libtlsshim.map \
		$(ALL_LDFLAGS) -o $@ $(PRELOAD_OBJ) $(CONFIG_OBJ) $(PRELOAD_CORE_OBJ) \
		$(PRELOAD_CONFIG_LIBS) -ldl -lpthread

# The launcher maps no OpenSSL on its common path (start-up cost): it links
# the core's OpenSSL-free objects and config/, and passes the loader its own
# checks (launch_cfg_checks, preload/launcher/launcher_ssl.c), which load
# libsslsocket.so when OpenSSL must answer. config/core_checks.c, the
# loader's checks through the whole core, is not linked in.
LAUNCHER_CORE_OBJ := $(call obj,core/error_plain.c core/options_plain.c core/blob.c \
                     core/pemscan.c core/der.c core/files_check.c core/identity_parse.c \
                     core/sslconfig.c)
LAUNCHER_CONFIG_OBJ := $(filter-out $(call obj,config/core_checks.c),$(CONFIG_OBJ))

$(LAUNCHER_OBJ) $(UNIT_OBJ): ALL_CFLAGS += -Ipreload/launcher

$(call obj,preload/launcher/launcher_exec.c preload/envkeep.c tests/unit/check_launcher.c): \
	ALL_CFLAGS += $(SAN_RUNTIME_FLAGS)

# The library directory the launcher was built for, its last place to look
# (launch_libdir): a one-line source of its own, PREFIX/lib for the build
# and /usr/lib for the package (make deb), so that the package's launcher
# is these objects linked with the other one and no source is compiled
# twice with two meanings. Like sslsocket.pc, written when the Makefile
# changes: `make install PREFIX=...` does not rebuild the launcher.
LIBDIR_OBJ := $(BUILD)/gen/libdir.o
DEB_LIBDIR_OBJ := $(BUILD)/gen/deb/libdir.o
$(BUILD)/gen/libdir.c: Makefile
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' '#include "launcher.h"' \
		'const char launch_libdir[] = "$(PREFIX)/lib";' > $@
$(BUILD)/gen/deb/libdir.c: Makefile
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' '#include "launcher.h"' 'const char launch_libdir[] = "/usr/lib";' > $@
$(LIBDIR_OBJ) $(DEB_LIBDIR_OBJ): %.o: %.c
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Ipreload/launcher -c $< -o $@

# build/tlsshim is static (-static-pie) where the compiler can link one and
# no sanitizer is on (their runtimes are shared libraries): no loader and
# no libc to map and relocate, about half a millisecond less per program
# started through it on this kind of machine (`make bench`, start-up).
# Otherwise it is the full launcher again. STATIC_LAUNCHER=0 turns it off.
ifeq ($(origin STATIC_LAUNCHER),undefined)
STATIC_LAUNCHER := $(if $(strip $(SAN))$(if $(CONFIG_A),,no-libconfig.a),0,$(shell printf 'int main(void){return 0;}\n' | \
	$(CC) -x c -static-pie -o /dev/null - >/dev/null 2>&1 && echo 1 || echo 0))
endif
LAUNCHER_LINK_FULL = $(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LAUNCHER_CONFIG_LIBS) -ldl -lpthread
LAUNCHER_LINK_STATIC = $(CC) $(ALL_LDFLAGS) -static-pie -o $@ $(filter %.o,$^) \
	$(LAUNCHER_CONFIG_LIBS) -lpthread
LAUNCHER_DEPS := $(LIBDIR_OBJ) $(LAUNCHER_CORE_OBJ) $(LAUNCHER_CONFIG_OBJ) $(CONFIG_LOCAL_A)

$(LAUNCHER_FULL): $(LAUNCHER_FULL_OBJ) $(LAUNCHER_DEPS) | $(LIB_SO)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LAUNCHER_LINK_FULL)

ifeq ($(STATIC_LAUNCHER),1)
$(LAUNCHER): $(LAUNCHER_STATIC_OBJ) $(LAUNCHER_DEPS) | $(LAUNCHER_FULL)
	@$(if $(Q),echo "  LD      $@ (static)")
	$(Q)$(LAUNCHER_LINK_STATIC)
else
$(LAUNCHER): $(LAUNCHER_FULL_OBJ) $(LAUNCHER_DEPS) | $(LIB_SO)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LAUNCHER_LINK_FULL)
endif

$(BUILD)/sanitizer.env: Makefile
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' 'SANITIZER=$(if $(SAN_RUNTIME),$(SAN_NAME))' 'SAN_RUNTIME=$(SAN_RUNTIME)' \
		'SAN_RUNTIME_FIRST=$(SAN_RUNTIME_FIRST)' 'STATIC_LAUNCHER=$(STATIC_LAUNCHER)' > $@

$(BUILD)/sslsocket.pc: Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
		'Name: sslsocket' 'Description: the SSL socket wrapper of Python 2009 ssl, in C' \
		'Version: $(VERSION)' 'Requires.private: openssl' \
		'Libs: -L$${libdir} -lsslsocket' 'Libs.private: -lpthread' \
		'Cflags: -I$${includedir}' > $@

# ---- tests ----------------------------------------------------------------
# Every tests/unit/check_NAME.c exposes `Suite *NAME_suite(void)`; the
# runner adds them all to one SRunner.
$(BUILD)/gen/suites.inc: $(UNIT_SRC) Makefile
	@mkdir -p $(dir $@)
	$(Q)for f in $(notdir $(basename $(UNIT_SRC))); do echo "SUITE($${f#check_})"; done > $@.tmp \
		&& mv $@.tmp $@

$(call obj,tests/unit/runner.c): $(BUILD)/gen/suites.inc

$(UNIT_OBJ): ALL_CFLAGS += $(CHECK_CFLAGS) -Wno-missing-prototypes

$(BUILD)/libts_int.a: $(PRELOAD_INT_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(UNIT_RUNNER): $(UNIT_OBJ) $(CONFIG_OBJ) $(LAUNCHER_LIB_OBJ) $(LIBDIR_OBJ) $(BUILD)/libts_int.a \
                $(LIBS_A)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJ) $(CONFIG_OBJ) $(LAUNCHER_LIB_OBJ) $(LIBDIR_OBJ) \
		$(BUILD)/libts_int.a $(LIBS_A) \
		$(CHECK_LIBS) $(SSL_LIBS) $(CONFIG_LIBS) -ldl -lpthread

# Small programs the tests drive (plain C; some use libsslsocket).
$(BUILD)/progs/%: $(BUILD)/obj/tests/progs/%.o $(LIBS_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS_A) $(SSL_LIBS) -lpthread

$(call obj,$(PROG_SRC)): ALL_CFLAGS += -Wno-missing-prototypes

# The fuzz targets without libFuzzer (tests/fuzz/replay.c's main), for
# tests/integration/test_fuzz_corpus.sh.
$(BUILD)/fuzz-replay/%: $(BUILD)/obj/tests/fuzz/%.o $(call obj,$(FUZZ_REPLAY_SRC)) $(CONFIG_OBJ) $(LIBS_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(call obj,$(FUZZ_REPLAY_SRC)) $(CONFIG_OBJ) $(LIBS_A) \
		$(SSL_LIBS) $(CONFIG_LIBS) -lpthread

progs: $(PROGS) $(FUZZ_REPLAYS)

# The tests start python3 hundreds of times. A version manager's python3
# is often a shell script that finds the interpreter on every start (pyenv's
# takes over a second on a busy machine, enough to run tests out of time):
# the tests get the interpreter itself, first in PATH.
TEST_PATH = PATH="$$(sh tests/pybin.sh $(BUILD)):$$PATH"

check-unit: all $(UNIT_RUNNER)
	$(Q)$(TEST_PATH) CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-20} $(UNIT_RUNNER)

check-integration: all $(PROGS) $(FUZZ_REPLAYS)
	$(Q)$(TEST_PATH) sh tests/integration/run.sh $(BUILD)

# Integration first, so that the last lines are check's summary.
check: all $(UNIT_RUNNER) $(PROGS) $(FUZZ_REPLAYS)
	$(Q)export $(TEST_PATH); sh tests/integration/run.sh $(BUILD); it=$$?; \
	CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-20} $(UNIT_RUNNER); ut=$$?; \
	test $$it -eq 0 && test $$ut -eq 0

demo: all
	$(Q)sh tests/demo.sh $(BUILD)

# The whole of `make check` in a sanitizer build: every program a test runs
# with libtlsshim.so runs it sanitized (tests/integration/run.sh reads the
# reports; tests/sanitizers/ has the suppressions). UBSan is built to
# recover and halts through UBSAN_OPTIONS: a halting UBSan writes its
# report to stderr only (gcc 12), a recovering one to log_path, which
# run.sh reads.
asan:
	$(Q)UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(MAKE) --no-print-directory \
		BUILD=build-asan$(if $(CC_IS_CLANG),-clang) OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined" check

tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-tsan$(if $(CC_IS_CLANG),-clang) OPT="-O1 -g" SAN="-fsanitize=thread" check

# The unit tests under valgrind's memcheck. Each test runs in its own
# forked child as in make check (the tests rely on it); valgrind follows
# the fork, checks the child's leaks when it exits and makes its status 1
# on an error or a definite leak, which fails that test. Slower tests:
# CK_DEFAULT_TIMEOUT 600. tests/sanitizers/valgrind.supp is for one-time
# allocations of the libraries below us.
VALGRIND := valgrind --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
	--suppressions=tests/sanitizers/valgrind.supp
valgrind: all $(UNIT_RUNNER)
	$(Q)$(TEST_PATH) CK_DEFAULT_TIMEOUT=$${CK_DEFAULT_TIMEOUT:-600} $(VALGRIND) $(UNIT_RUNNER)

# libFuzzer targets, one per parser; each runs FUZZ_SECONDS, seeded with
# tests/fuzz/corpus/TARGET/ (read only: new inputs go to BUILD/fuzz/TARGET.corpus).
FUZZ_SECONDS ?= 30
fuzz:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined" fuzz-run

fuzz-run: $(FUZZ_BINS)
	$(Q)set -e; for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); d=tests/fuzz/$$n.dict; mkdir -p $$f.corpus; \
		echo "  FUZZ    $$n ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) $$(test -f $$d && echo -dict=$$d) \
			-artifact_prefix=$$f- $$f.corpus $$(test -d tests/fuzz/corpus/$$n && \
			echo tests/fuzz/corpus/$$n) >$$f.log 2>&1 || { tail -n 30 $$f.log; exit 1; }; \
		grep -E '^(Done|#[0-9]+.*DONE)' $$f.log | tail -n 1; \
	done

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(CONFIG_OBJ) $(LIBS_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(CONFIG_OBJ) $(LIBS_A) \
		$(SSL_LIBS) $(CONFIG_LIBS) -lpthread

$(call obj,$(FUZZ_SRC) $(FUZZ_REPLAY_SRC)): ALL_CFLAGS += -Wno-missing-prototypes

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(SSL_LIBS) -lpthread

$(call obj,$(BENCH_SRC)): ALL_CFLAGS += -Wno-missing-prototypes

bench: all $(BENCH_BINS)
	$(Q)sh bench/run.sh $(BUILD)

# ---- install ----------------------------------------------------------------
# $(call install_tree,ROOT,PREFIX,LAUNCHER,FULL,ECHO): the installed files
# under ROOT (DESTDIR) + PREFIX, with LAUNCHER as bin/tlsshim and FULL (the
# full launcher, which the static one execs for OpenSSL's modes) as
# lib/tlsshim/tlsshim-full; ECHO "@" keeps the commands quiet. PREFIX may
# differ from the one the build used (`make && make install PREFIX=/opt/x`):
# the launchers find their libraries (and the full launcher) in ../lib from
# themselves, and sslsocket.pc is written with the install's PREFIX.
define install_tree
	$(5)install -d $(1)$(2)/lib/pkgconfig $(1)$(2)/lib/tlsshim $(1)$(2)/include $(1)$(2)/bin \
		$(1)$(2)/share/man/man1 $(1)$(2)/share/man/man5
	$(5)install -m 0755 $(PRELOAD_SO) $(LIB_SO) $(1)$(2)/lib/
	$(5)install -m 0644 $(LIBS_A) $(1)$(2)/lib/
	$(5)install -m 0644 core/sslsocket.h $(1)$(2)/include/
	$(5)sed 's|^prefix=.*|prefix=$(2)|' $(BUILD)/sslsocket.pc >$(1)$(2)/lib/pkgconfig/sslsocket.pc
	$(5)chmod 0644 $(1)$(2)/lib/pkgconfig/sslsocket.pc
	$(5)install -m 0755 $(3) $(1)$(2)/bin/tlsshim
	$(5)install -m 0755 $(4) $(1)$(2)/lib/tlsshim/tlsshim-full
	$(5)install -m 0644 preload/tlsshim.1 $(1)$(2)/share/man/man1/
	$(5)install -m 0644 config/tlsshim.conf.5 $(1)$(2)/share/man/man5/
endef

install: all
	$(call install_tree,$(DESTDIR),$(PREFIX),$(LAUNCHER),$(LAUNCHER_FULL),)

# A Debian package of the whole product under /usr, assembled by
# packaging/mkdeb.sh from the installed tree. It reuses this build's
# objects: its launcher differs from build/tlsshim only in the library
# directory it was built for (launch_libdir: /usr/lib), a source of its own.
DEB_ROOT := $(abspath $(BUILD))/deb-root

DEB_LAUNCHER_DEPS := $(DEB_LIBDIR_OBJ) $(LAUNCHER_CORE_OBJ) $(LAUNCHER_CONFIG_OBJ) $(CONFIG_LOCAL_A)
$(BUILD)/deb/tlsshim-full: $(LAUNCHER_FULL_OBJ) $(DEB_LAUNCHER_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LAUNCHER_LINK_FULL)
ifeq ($(STATIC_LAUNCHER),1)
$(BUILD)/deb/tlsshim: $(LAUNCHER_STATIC_OBJ) $(DEB_LAUNCHER_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@ (static)")
	$(Q)$(LAUNCHER_LINK_STATIC)
else
$(BUILD)/deb/tlsshim: $(LAUNCHER_FULL_OBJ) $(DEB_LAUNCHER_DEPS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LAUNCHER_LINK_FULL)
endif

deb: all $(BUILD)/deb/tlsshim $(BUILD)/deb/tlsshim-full
	$(Q)rm -rf $(DEB_ROOT)
	$(call install_tree,$(DEB_ROOT),/usr,$(BUILD)/deb/tlsshim,$(BUILD)/deb/tlsshim-full,@)
	$(Q)sh packaging/mkdeb.sh $(DEB_ROOT) $(abspath $(BUILD)) $(VERSION)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libtlsshim.so $(DESTDIR)$(PREFIX)/lib/libsslsocket.so \
		$(DESTDIR)$(PREFIX)/lib/libsslsocket.a $(DESTDIR)$(PREFIX)/include/sslsocket.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/sslsocket.pc $(DESTDIR)$(PREFIX)/bin/tlsshim \
		$(DESTDIR)$(PREFIX)/lib/tlsshim/tlsshim-full \
		$(DESTDIR)$(PREFIX)/share/man/man1/tlsshim.1 \
		$(DESTDIR)$(PREFIX)/share/man/man5/tlsshim.conf.5
	-rmdir $(DESTDIR)$(PREFIX)/lib/tlsshim 2>/dev/null

clean:
	rm -rf build build-clang build-asan build-tsan build-asan-clang build-tsan-clang build-fuzz

help:
	@sed -n '2,14p' Makefile | sed 's/^# \{0,1\}//'

-include $(shell find $(BUILD)/obj $(BUILD)/gen -name '*.d' 2>/dev/null)
