# idsess: PGXS build, pg_regress and isolation tests, TAP tests.

EXTENSION = idsess
MODULE_big = idsess
OBJS = \
	src/settings.o \
	src/crypto.o \
	src/spi.o \
	src/scan.o \
	src/validate.o \
	src/arrays.o \
	src/version.o \
	src/tenant.o \
	src/logfilter.o \
	src/failures.o \
	src/activity.o \
	src/envelope.o \
	src/keyring.o \
	src/ticket.o \
	src/shmem.o \
	src/tenant_stats.o \
	src/stats.o \
	src/session_end.o \
	src/session_rows.o \
	src/limit.o \
	src/expire.o \
	src/lookup.o \
	src/search_index.o \
	src/store.o \
	src/clients.o \
	src/query.o \
	src/revoke.o \
	src/keys.o \
	src/worker.o \
	src/idsess.o
DATA = idsess--1.0.sql idsess--1.0--1.1.sql idsess--1.1--1.2.sql
# The documents by audience (doc/), installed with the extension; see
# docmoduledir below for where.
DOCS = doc/reference.md doc/operations.md doc/security.md doc/design.md doc/UPGRADING.md
PGFILEDESC = "idsess - server-side session store for identity servers"

PG_CONFIG ?= pg_config

# Our own code builds warning-free under -Wall -Wextra; PostgreSQL's headers
# are included as system headers so that their unused parameters do not count.
PG_CFLAGS = -Wall -Wextra
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)
# Tickets are compressed with LZ4 (src/ticket.c), the library PostgreSQL's own
# lz4 compression uses: Debian's liblz4-dev; and sealed with OpenSSL's
# libcrypto (src/crypto.c), which PostgreSQL and pgcrypto use: libssl-dev.
SHLIB_LINK = -llz4 -lcrypto
ifdef WERROR
PG_CFLAGS += -Werror
endif

# The pg_regress suite (sql/, expected/) and the isolation specs (specs/)
# run against a server that preloads idsess and has a master key: make
# check starts one (below); make installcheck uses the server PGHOST and
# PGPORT name, set up as scripts/dev test does.
REGRESS = setup store seal inputs clients query revoke contract expire keys privileges worker lifetime strength activity reports tenants fuzz memory
REGRESS_OPTS = --load-extension=pgcrypto --load-extension=pg_trgm
ISOLATION = add_client take_expired revoke_add_client \
	keys_rotate_seal keys_rotate_open keys_rotate_reseal keys_retire_seal keys_destroy_opener \
	revoke_late_save limit_repeatable_read create_same_key revoke_filter_batch
TAP_TESTS = 1
EXTRA_CLEAN = tmp_check_regress tmp_check_keys

PGXS := $(shell $(PG_CONFIG) --pgxs)
# Without PGXS the first target below would become the default: a plain
# "make" with a wrong PG_CONFIG would start the benchmarks.
ifeq ($(PGXS),)
$(error $(PG_CONFIG) gave no PGXS makefile: install postgresql-server-dev-15 or -17 (debian/pgversions) or set PG_CONFIG)
endif
# PGXS refuses make check (it has no temporary install of PostgreSQL to
# test in).  Ours runs make installcheck with pg_regress --temp-instance:
# the regression and isolation suites each start a throwaway server of the
# installed PostgreSQL, which must hold this idsess (make install first),
# preloading it with master keys made for the run; the TAP tests start
# their own nodes.  As a user that may run a server, not root.
ifeq ($(MAKECMDGOALS),check)
CHECK_DIR = $(CURDIR)/tmp_check_keys
.PHONY: check
check:
	rm -rf '$(CHECK_DIR)' && mkdir -m 700 '$(CHECK_DIR)'
	for k in master other; do \
		(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > '$(CHECK_DIR)'/$$k.key) || exit 1; \
	done
	printf '%s\n' "shared_preload_libraries = 'idsess'" \
		"idsess.master_key_file = '$(CHECK_DIR)/master.key'" \
		"idsess.databases = 'contrib_regression'" "idsess.max_nap = '500ms'" \
		"logging_collector = on" > '$(CHECK_DIR)'/temp.conf
	IDSESS_OTHER_KEY='$(CHECK_DIR)/other.key' $(MAKE) installcheck \
		EXTRA_REGRESS_OPTS="--temp-instance=./tmp_check_regress --temp-config='$(CHECK_DIR)/temp.conf'"
else
include $(PGXS)
endif

# Every object is rebuilt when any of idsess's headers changes: PGXS tracks
# header dependencies only in a PostgreSQL built with --enable-depend, and a
# struct that changes size under a stale object corrupts memory.
$(OBJS): $(wildcard src/*.h)

# PGXS installs DOCS flat into the directory every extension shares
# ($(docdir)/extension), where names like reference.md would collide: ours go
# into a folder of their own, $(docdir)/extension/idsess.  PGXS's uninstall
# names DOCS with their doc/ prefix, so uninstall-docs removes them itself.
docmoduledir := extension/idsess
.PHONY: uninstall-docs
uninstall: uninstall-docs
uninstall-docs:
	rm -f $(addprefix '$(DESTDIR)$(docdir)/$(docmoduledir)'/, $(notdir $(DOCS)))

# Benchmarks against the peers' designs: bench/run, the full run by default
# (BENCH_MODE=quick checks the harness in a few minutes).
BENCH_MODE ?= full
.PHONY: bench
bench:
	bench/run --$(BENCH_MODE)

# The C files call each other only downward, in the layers src/idsess.h
# draws: scripts/check-layers finds any circle in the built objects, and
# scripts/test-check-layers shows it failing on a planted back-call;
# scripts/check-layer-docs checks that idsess.h and doc/design.md name
# every C file.
.PHONY: check-layers
check-layers: all
	scripts/test-check-layers >/dev/null
	scripts/check-layers src
	scripts/check-layer-docs src doc/design.md

# The PL/Proxy sharding extensions (proxy/: idsess_proxy for the proxy
# database, idsess_shard for the shards) install with idsess, so that one
# make install gives the TAP tests and packagers all three.
.PHONY: install-proxy
install: install-proxy
install-proxy:
	$(MAKE) -C proxy install

# The release archive for PGXN: the committed tree at HEAD (git archive),
# idsess-<version>.zip with everything under idsess-<version>/, the version
# taken from META.json.
DIST_VERSION = $(shell perl -MJSON::PP -0777 -ne 'print decode_json($$_)->{version}' META.json)
.PHONY: dist
dist:
	git archive --format=zip --prefix=idsess-$(DIST_VERSION)/ -o idsess-$(DIST_VERSION).zip HEAD
