# qoe_agg -- PGXS build.
#
#   make                 build the extension (warnings are errors)
#   make install         install it into the PostgreSQL 15 found below
#   make test            THE test command: test/run_all.sh (packages, build,
#                        throwaway cluster, pg_regress + pgTAP + C unit tests)
#   make installcheck    pg_regress suite against a running server (PG* env)
#   make unit            C unit tests of the pure core, run under prove
#   make fuzz            libFuzzer + ASan/UBSan run of the replay harness
#                        (FUZZ_SECONDS=60 by default)
#   make demo            demo/run.sh
#
# WERROR= turns -Werror off for a build with another compiler or headers.

EXTENSION = qoe_agg
MODULE_big = qoe_agg
SRCS = $(sort $(wildcard src/*.c))
OBJS = $(SRCS:.c=.o)
# The install script is put together from src/sql/*.sql, in name order, so
# that each part of the SQL surface sits in a file of its own.
DATA_built = qoe_agg--0.1.sql
REGRESS = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=.

# -Wextra is kept; PostgreSQL 15's own headers (ilist.h, bufpage.h) trip
# -Wunused-parameter and nothing else.  PG_CFLAGS only reaches gcc, not the
# clang that emits the JIT bitcode.
WERROR ?= -Werror
PG_CFLAGS += -Wextra -Wno-unused-parameter $(WERROR)

EXTRA_CLEAN = build

# Prefer PostgreSQL 15's pg_config: /usr/bin/pg_config on Debian follows the
# newest installed server-dev package.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): src/qoe_core.h $(wildcard src/*.h)

qoe_agg--0.1.sql: $(sort $(wildcard src/sql/*.sql))
	cat $^ > $@

# ---------------------------------------------------------------------
# Pure core: every src/*.c whose includes (followed through src/*.h, missing
# headers tolerated) never reach postgres.h.
# ---------------------------------------------------------------------
UNIT_CC ?= gcc
CORE_SRCS := $(strip $(foreach f,$(SRCS),$(if $(shell $(UNIT_CC) -MM -MG -Isrc $(f) 2>/dev/null | grep -o -m1 'postgres\.h'),,$(f))))
CORE_HDRS = $(wildcard src/*.h)

UNIT_CFLAGS ?= -std=gnu11 -Wall -Wextra -Werror -O2 -g
UNIT_SRCS = $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS = $(patsubst test/unit/%.c,build/unit/%,$(UNIT_SRCS))
UNIT_CORE_OBJS = $(patsubst src/%.c,build/unit/core/%.o,$(CORE_SRCS))
UNIT_PROVE ?= prove

build/unit/core/%.o: src/%.c $(CORE_HDRS)
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -Isrc -c $< -o $@

build/unit/test_%: test/unit/test_%.c $(wildcard test/unit/*.h) $(UNIT_CORE_OBJS) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -Isrc -Itest/unit $< $(UNIT_CORE_OBJS) -lm -o $@

.PHONY: unit unit-build fuzz fuzz-build test demo
unit-build: $(UNIT_BINS)

unit: unit-build
	@test -n "$(UNIT_BINS)" || { echo "no unit tests in test/unit/test_*.c" >&2; exit 1; }
	$(UNIT_PROVE) $(UNIT_PROVE_FLAGS) $(UNIT_BINS)

# ---------------------------------------------------------------------
# Fuzzing (clang + libclang-rt-14-dev)
# ---------------------------------------------------------------------
FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=

build/fuzz/fuzz_replay: test/fuzz/fuzz_replay.c test/unit/log_flat.h test/unit/replay_check.h $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -Isrc $< $(CORE_SRCS) -lm -o $@

fuzz-build: build/fuzz/fuzz_replay

# New inputs go to test/fuzz/corpus-work (ignored); test/fuzz/corpus holds
# the committed seeds.  Crashes land in build/fuzz/crash-*.
fuzz: build/fuzz/fuzz_replay
	@mkdir -p test/fuzz/corpus-work
	build/fuzz/fuzz_replay -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-artifact_prefix=build/fuzz/ $(FUZZ_FLAGS) test/fuzz/corpus-work test/fuzz/corpus

test:
	bash test/run_all.sh

demo:
	bash demo/run.sh

# the core's own benchmark of the leader's final step (bench/run.sh runs it)
build/bench/merge: bench/merge.c $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(UNIT_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -Isrc $< $(CORE_SRCS) -lm -o $@

.PHONY: bench
bench:
	bash bench/run.sh
