# latchkey — the two commands: `make run` and `make test`. Both install what they lack first.
BUILD_DIR ?= build
JOBS      ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
DB        ?= sqlite:latchkey.db
LISTEN    ?= 127.0.0.1:8080

# Node.js 20 for the test clients where the system's is older (scripts/install-deps.sh).
export PATH := $(CURDIR)/scripts/node-runtime/node_modules/.bin:$(PATH)

# ccache keys on paths relative to the checkout, so a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

# The sanitizer builds (test-sanitize and fuzz share one, test-tsan has its own) are clang's:
# it compiles them in about two thirds of GCC's time, and the tests in half. -O1 with line tables
# only (-g1) is what a sanitizer report needs (file and line in every frame) and compiles in two
# thirds of the time of -O2 -g.
SAN_DIR   ?= build-asan
SAN_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
             -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
E2E_FLAGS ?= --test-concurrency=$(JOBS) --test-reporter=spec

.PHONY: all deps deps-test build run test unit e2e e2e-postgres test-sanitize test-tsan clean format fuzz \
        check-layers check-format check-tidy deb

# `make fuzz`: the libFuzzer targets of tests/fuzz, built in the sanitizer build of
# test-sanitize (ASan+UBSan, every library instrumented for coverage), each run for FUZZ_SECONDS;
# fails on any finding.
FUZZ_SECONDS ?= 30
FUZZ_JOBS    ?= $(JOBS)

all: build

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

build: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@$(BUILD_DIR)/latchkey --db $(DB) demo --listen $(LISTEN)
	@exec $(BUILD_DIR)/latchkey --db $(DB) serve --listen $(LISTEN)

# The unit and store suites; the store suite runs against a throw-away PostgreSQL cluster as well
# as SQLite (scripts/with-pg-cluster.sh; `make test` requires PostgreSQL, `make unit` alone runs
# without it when it is not installed).
unit: build
	@scripts/with-pg-cluster.sh ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

e2e: build deps-test
	@cd tests/e2e && LATCHKEY_BIN=$(abspath $(BUILD_DIR))/latchkey node --test $(E2E_FLAGS)

# The end-to-end suite again, every server on a fresh database of its own in a throw-away
# PostgreSQL cluster (tests/e2e/lib/database.js); the tests about the SQLite file itself skip.
e2e-postgres: export LATCHKEY_PG = required
e2e-postgres: build deps-test
	@cd tests/e2e && LATCHKEY_E2E_DB=postgres LATCHKEY_BIN=$(abspath $(BUILD_DIR))/latchkey \
	  ../../scripts/with-pg-cluster.sh node --test $(E2E_FLAGS)

# The whole unit and end-to-end suites against an AddressSanitizer + UndefinedBehaviorSanitizer
# build: any leak, overflow or UB aborts the process and fails the run. The store suite runs
# against PostgreSQL too, as in `make test`.
test-sanitize: deps-test san-configure
	@cmake --build $(SAN_DIR) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LATCHKEY_PG=required \
	  scripts/with-pg-cluster.sh ctest --test-dir $(SAN_DIR) --output-on-failure -j $(JOBS)
	@cd tests/e2e && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LATCHKEY_BIN=$(abspath $(SAN_DIR))/latchkey node --test $(E2E_FLAGS)

# The ASan+UBSan build with libFuzzer's coverage (CMakeLists.txt, LATCHKEY_FUZZ): clang.
.PHONY: san-configure
san-configure:
	@scripts/install-deps.sh fuzz
	@cmake -S . -B $(SAN_DIR) $(SAN_FLAGS) -DLATCHKEY_FUZZ=ON >/dev/null

test: export LATCHKEY_PG = required
test: deps-test check-layers unit e2e e2e-postgres

# The unit and store tests (the code that shares memory between threads: the server, the writer,
# the caches, the throttles) against a ThreadSanitizer build: any data race fails the run. The
# store tests run against PostgreSQL too when it is installed (it is after `make test`).
TSAN_DIR   ?= build-tsan
TSAN_TESTS ?= unit_core unit_crypto unit_http unit_store unit_server
space := $(subst ,, )
test-tsan: deps
	@scripts/install-deps.sh fuzz
	@cmake -S . -B $(TSAN_DIR) $(SAN_FLAGS) -DLATCHKEY_TSAN=ON >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target $(TSAN_TESTS)
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 scripts/with-pg-cluster.sh \
	  ctest --test-dir $(TSAN_DIR) --output-on-failure -j $(JOBS) \
	  -R '^($(subst $(space),|,$(strip $(TSAN_TESTS))))(/|$$)'

# Fails when a folder of src/ includes a folder above it (docs/design.md, "Layers").
check-layers:
	@scripts/check-layers.sh

# `make format` formats every tracked C++ file as .clang-format says; `make check-format`
# (run by CI) fails when one is not.
format:
	@scripts/install-deps.sh lint
	@git ls-files '*.cc' '*.h' | xargs clang-format -i
check-format:
	@scripts/install-deps.sh lint
	@scripts/check-format.sh

# `make check-tidy` (run by CI): clang-tidy with the checks of .clang-tidy over src/, with the
# compile commands of a build directory of its own, configured without precompiled headers (no
# compiling needed): each file is parsed with its own includes only, so one that lacks an include
# fails here. Fails on any finding. Its checks include clang's thread-safety analysis: a
# GUARDED_BY member touched without its mutex held fails the run (core/mutex.h).
TIDY_DIR ?= build-tidy
check-tidy: deps
	@scripts/install-deps.sh lint
	@cmake -S . -B $(TIDY_DIR) $(CMAKE_FLAGS) -DLATCHKEY_PCH=OFF >/dev/null
	@JOBS=$(JOBS) scripts/check-tidy.sh $(TIDY_DIR)

fuzz: san-configure
	@cmake --build $(SAN_DIR) -j $(JOBS) --target fuzz_targets
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) scripts/run-fuzz.sh $(SAN_DIR)

clean:
	rm -rf $(BUILD_DIR)

# `make deb`: the Debian package $(BUILD_DIR)/latchkey_VERSION_ARCH.deb of the Release build: the
# stripped binary, the systemd unit, /etc/latchkey/latchkey.toml (`latchkey config example`), the
# man page and the docs (packaging/build-deb.sh; README "Running in production").
deb: build
	@scripts/install-deps.sh deb
	@packaging/build-deb.sh $(BUILD_DIR)/latchkey $(BUILD_DIR)

# `make bench`: latchkey (Release, fresh SQLite database; one and two nodes on a throw-away
# PostgreSQL cluster) against node-oidc-provider under the same wrk load, flow by flow; prints one
# table and writes bench/results/latest.{md,json}. bench/README.md.
.PHONY: bench
bench: build
	@scripts/install-deps.sh bench
	@LATCHKEY_BIN=$(abspath $(BUILD_DIR))/latchkey bench/run.sh
	@LATCHKEY_BIN=$(abspath $(BUILD_DIR))/latchkey bench/purge.sh
