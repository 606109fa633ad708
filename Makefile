# latchkey — the two commands: `make run` and `make test`. Both install what they lack first.
BUILD_DIR ?= build
JOBS      ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
DB        ?= sqlite:latchkey.db
LISTEN    ?= 127.0.0.1:8080

.PHONY: all deps deps-test build run test unit e2e clean format

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

unit: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

e2e: build deps-test
	@cd tests/e2e && LATCHKEY_BIN=$(abspath $(BUILD_DIR))/latchkey node --test --test-concurrency=$(JOBS) --test-reporter=spec

test: deps-test unit e2e

clean:
	rm -rf $(BUILD_DIR)
