# suanpan: the two commands are `make run` and `make test`. Everything else is a step they use.
BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
FUZZ_DIR  ?= build-fuzz
JOBS      ?= $(shell nproc)
FUZZ_SECONDS ?= 30
SUANPAN   := $(BUILD_DIR)/apps/suanpan/suanpan
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps web build test run bench asan test-asan fuzz format format-check clean

all: build

deps:
	@scripts/deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release

build: deps web $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The dashboard (web/): type-checked and bundled by Vite into web/dist, which the server serves.
WEB_SOURCES = $(shell find web/src -type f 2>/dev/null) web/index.html web/package-lock.json \
  web/tsconfig.json web/vite.config.ts
web: web/dist/index.html
web/dist/index.html: $(WEB_SOURCES)
	npm run --prefix web --silent build

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The whole platform on this machine: `suanpan dev` (server, SQLite store and a local agent with
# 8 declared H100 in one process). It prints the URL, the tokens and three commands to try; its
# state lives in .run/dev (delete it to start over). `suanpan server --config examples/server.toml`
# runs the control plane alone on the 52,400-device example pool.
run: build
	$(SUANPAN) dev --data-dir .run/dev

bench: build
	@for b in $(BUILD_DIR)/bench/bench_*; do echo "== $$b"; $$b --benchmark_counters_tabular=true || exit 1; done

# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (Debug, -O1).
test-asan: deps web
	cmake -S . -B $(ASAN_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSUANPAN_SANITIZE=ON -DSUANPAN_BENCH=OFF
	cmake --build $(ASAN_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS)

# libFuzzer targets for the pool and job parsers, each for FUZZ_SECONDS.
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSUANPAN_FUZZ=ON -DSUANPAN_BENCH=OFF -DSUANPAN_TESTS=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_pool_toml fuzz_money_toml fuzz_jobs_csv fuzz_job_json fuzz_api_request fuzz_oidc_token
	mkdir -p $(FUZZ_DIR)/corpus/pool $(FUZZ_DIR)/corpus/money $(FUZZ_DIR)/corpus/jobs $(FUZZ_DIR)/corpus/job_json $(FUZZ_DIR)/corpus/api $(FUZZ_DIR)/corpus/oidc
	$(FUZZ_DIR)/fuzz/fuzz_pool_toml -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  $(FUZZ_DIR)/corpus/pool fuzz/seeds/pool
	$(FUZZ_DIR)/fuzz/fuzz_money_toml -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  $(FUZZ_DIR)/corpus/money fuzz/seeds/money
	$(FUZZ_DIR)/fuzz/fuzz_jobs_csv -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  $(FUZZ_DIR)/corpus/jobs fuzz/seeds/jobs
	$(FUZZ_DIR)/fuzz/fuzz_job_json -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
	  $(FUZZ_DIR)/corpus/job_json fuzz/seeds/job_json
	$(FUZZ_DIR)/fuzz/fuzz_api_request -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
	  $(FUZZ_DIR)/corpus/api fuzz/seeds/api
	$(FUZZ_DIR)/fuzz/fuzz_oidc_token -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  $(FUZZ_DIR)/corpus/oidc fuzz/seeds/oidc

FORMAT_FILES = $(shell git ls-files '*.h' '*.cc')
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
