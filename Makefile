# walcast: output plugin + extension (PGXS) and the sidecar (CMake), built together.
#   make && make install        build and install everything (walcast into $(PREFIX)/bin, /usr/local/bin)
#   make test                   the whole test suite on PostgreSQL 15 and 18 (installs what it needs)
#   make check-versions         the plugin compiled against PostgreSQL 14, 16 and 17 headers
#   make bench                  benchmarks, printed as ratios against baselines

# Paths are relative to $(srcdir), which PGXS sets: "." here, the source tree in a VPATH
# build for another PostgreSQL major (make -C build/pg18 -f ../../Makefile PG_CONFIG=...),
# which keeps each major's objects apart.
walcast_top := $(patsubst %/,%,$(dir $(firstword $(MAKEFILE_LIST))))
MODULE_big = walcast
OBJS = $(patsubst $(srcdir)/%.cpp,%.o,$(wildcard $(srcdir)/plugin/*.cpp))
EXTENSION = walcast
DATA = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/extension/walcast--*.sql)) extension/walcast-roles.sql
PGFILEDESC = "walcast - Debezium-shaped JSON from logical decoding"

REGRESS = $(patsubst $(srcdir)/sql/%.sql,%,$(sort $(wildcard $(srcdir)/sql/*.sql)))
REGRESS_OPTS = --inputdir=$(srcdir) --outputdir=build/regress/$(MAJORVERSION)

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
ISOLATION = $(patsubst $(srcdir)/specs/%.spec,%,$(sort $(wildcard $(srcdir)/specs/*.spec)))
ISOLATION_OPTS = --inputdir=$(srcdir) --outputdir=build/isolation/$(MAJORVERSION)
endif
include $(PGXS)

# A PostgreSQL built by a newer GCC (PyPI's 18) hands down flags that an older gcc/g++
# rejects (C++ excess precision before g++ 13, a clang-style warning before gcc 14). Neither
# matters for the plugin: no x87 arithmetic, no C sources (CFLAGS only reach the link).
walcast_newer_gcc_flags = -fexcess-precision=standard -Wmissing-variable-declarations
override CFLAGS := $(filter-out $(walcast_newer_gcc_flags),$(CFLAGS))
override CXXFLAGS := $(filter-out $(walcast_newer_gcc_flags),$(CXXFLAGS))

# A build in another directory finds only the sources in the tree: a VPATH (which some
# PGXS versions set) would also find an in-tree build's objects and link those instead.
ifneq ($(abspath $(walcast_top)),$(CURDIR))
VPATH =
vpath %.cpp $(walcast_top)
vpath %.control $(walcast_top)
.PHONY: plugin-objdir
$(OBJS): | plugin-objdir
plugin-objdir:
	@mkdir -p plugin
endif

# PGXS tracks no header dependencies: every object depends on every plugin header, so a
# changed struct never links against objects compiled with its old layout.
$(OBJS): $(wildcard $(srcdir)/plugin/*.h)

SIDECAR_BUILD = sidecar/build
CMAKE_BUILD_TYPE ?= RelWithDebInfo

all: sidecar

.PHONY: sidecar sidecar-install sidecar-uninstall test check-versions bench format deps demo config-doc
sidecar:
	@if [ -f sidecar/CMakeLists.txt ]; then \
		cmake -S sidecar -B $(SIDECAR_BUILD) -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) >/dev/null && \
		cmake --build $(SIDECAR_BUILD) -j2; fi

# docs/configuration.md from the sidecar's settings table (a unit test checks it is current).
config-doc: sidecar
	$(SIDECAR_BUILD)/walcast config-doc > docs/configuration.md
	$(SIDECAR_BUILD)/walcast config-doc --debezium-keys > docs/debezium-keys.md

# The walcast program goes where programs are found, $(PREFIX)/bin (/usr/local/bin, on
# PATH), not into PostgreSQL's bindir (PGXS's $(bindir): /usr/lib/postgresql/15/bin on
# Debian, not on PATH). Packagers: make install PREFIX=/usr DESTDIR=<staging dir>;
# WALCAST_BINDIR overrides the directory itself.
PREFIX ?= /usr/local
WALCAST_BINDIR ?= $(PREFIX)/bin

install: sidecar-install
sidecar-install: sidecar
	@if [ -f $(SIDECAR_BUILD)/walcast ]; then \
		install -D -m 755 $(SIDECAR_BUILD)/walcast $(DESTDIR)$(WALCAST_BINDIR)/walcast && \
		echo "walcast installed as $(DESTDIR)$(WALCAST_BINDIR)/walcast"; fi

uninstall: sidecar-uninstall
sidecar-uninstall:
	rm -f $(DESTDIR)$(WALCAST_BINDIR)/walcast

deps:
	bash test/install-deps.sh

test:
	bash test/run-all.sh

# The plugin against the server headers of 14, 16 and 17 (compile only; make test does it too).
check-versions:
	bash test/pg_versions.sh install
	bash test/check_versions.sh

bench:
	bash bench/run-all.sh

demo:
	bash test/demo.sh

format:
	clang-format -i plugin/*.cpp plugin/*.h sidecar/src/*/*.cpp sidecar/src/*/*.h sidecar/tests/*.cpp

clean: sidecar-clean
sidecar-clean:
	rm -rf $(SIDECAR_BUILD) build
