# walcast: output plugin + extension (PGXS) and the sidecar (CMake), built together.
#   make && make install        build and install everything
#   make test                   the whole test suite (installs what it needs)
#   make bench                  benchmarks, printed as ratios against baselines

MODULE_big = walcast
OBJS = $(patsubst %.cpp,%.o,$(wildcard plugin/*.cpp))
EXTENSION = walcast
DATA = $(wildcard extension/walcast--*.sql) extension/walcast-roles.sql
PGFILEDESC = "walcast - Debezium-shaped JSON from logical decoding"

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --outputdir=build/regress

PG_CPPFLAGS = -I$(srcdir)/plugin
# -fno-exceptions: nothing in the plugin may throw across Postgres' longjmp-based errors.
PG_CXXFLAGS = -std=c++17 -fno-exceptions -fno-rtti -Wall -Wextra -Wno-unused-parameter \
	-Wno-register -Wno-missing-field-initializers -Wno-sign-compare
SHLIB_LINK = -lstdc++

# JIT bitcode of the plugin buys nothing and would require clang on every build machine.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
# Concurrent sessions (DDL during decoding, slot creation): specs/*.spec, run by
# pg_isolation_regress after the pg_regress suite; expected output in expected/. Only
# where PGXS ships pg_isolation_regress (test/regress.sh says when it does not).
ISOLATION_REGRESS = $(dir $(PGXS))../../src/test/isolation/pg_isolation_regress
ifneq ($(wildcard $(ISOLATION_REGRESS)),)
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --inputdir=. --outputdir=build/isolation
endif
include $(PGXS)

SIDECAR_BUILD = sidecar/build
CMAKE_BUILD_TYPE ?= RelWithDebInfo

all: sidecar

.PHONY: sidecar sidecar-install test bench format deps demo
sidecar:
	@if [ -f sidecar/CMakeLists.txt ]; then \
		cmake -S sidecar -B $(SIDECAR_BUILD) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) >/dev/null && \
		cmake --build $(SIDECAR_BUILD) -j2; fi

install: sidecar-install
sidecar-install: sidecar
	@if [ -f $(SIDECAR_BUILD)/walcast ]; then \
		install -D -m 755 $(SIDECAR_BUILD)/walcast $(DESTDIR)$(bindir)/walcast; fi

deps:
	bash test/install-deps.sh

test:
	bash test/run-all.sh

bench:
	bash bench/run-all.sh

demo:
	bash test/demo.sh

format:
	clang-format -i plugin/*.cpp plugin/*.h sidecar/src/*.cpp sidecar/src/*.h sidecar/tests/*.cpp

clean: sidecar-clean
sidecar-clean:
	rm -rf $(SIDECAR_BUILD) build
