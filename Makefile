# Thin wrappers over scripts/ and the CMake presets. The two commands a new
# user needs are `make run` and `make test`; see README.md.
.DEFAULT_GOAL := help
SHELL := /bin/bash

.PHONY: help deps node-deps build run test asan-test fuzz bench format lint clean

help:
	@echo "make run        install missing deps, build (release), serve the demo on 127.0.0.1:8181"
	@echo "make test       install missing deps, build (release), run every test with ctest"
	@echo "make asan-test  the test suite under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make fuzz       build the libFuzzer targets (clang) and run each briefly"
	@echo "make bench      build and run the benchmarks under bench/ (see BENCHMARKS.md)"

deps:
	@scripts/install-deps

# Test tooling from npm (reference Cedar, MCP SDK, jose), pinned by package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
node-deps: deps node_modules/.package-lock.json

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release

run: build node-deps
	@scripts/run-demo

test: node-deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release
	@ctest --preset release

asan-test: node-deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan
	@ctest --preset asan

fuzz: deps
	@scripts/run-fuzzers $${FUZZ_SECONDS:-10}

bench:
	@scripts/install-deps --bench
	@cmake --preset release -DWARDEN_BUILD_BENCH=ON >/dev/null
	@cmake --build --preset release
	@scripts/run-benchmarks

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

lint:
	@cmake --preset debug >/dev/null
	@git ls-files 'src/*.cc' | xargs clang-tidy -p build/debug --quiet

clean:
	@rm -rf build
