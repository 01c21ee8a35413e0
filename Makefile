# Vigil: the thin front over CMake. `make run` and `make test` are the two
# commands a new machine needs; `make deps` installs everything they use.

BUILD      ?= build
TESTBUILD  ?= build-test
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PORT       ?= 8080
FUZZ_SECONDS ?= 600

# Debian packages the build, the tests and the benchmarks use.
APT_PKGS = build-essential cmake pkg-config clang libclang-rt-14-dev \
  libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 zlib1g-dev \
  libcmocka-dev libcurl4-openssl-dev curl libargon2-dev libsodium-dev \
  libpq-dev postgresql chromium fonts-wqy-microhei \
  mosquitto libmosquitto-dev nginx-light

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test bench fuzz clean checksrc

all: build

deps:
	@missing=$$(for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$(echo $$missing | tr '\n' ' ')"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@if [ -f package.json ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; }; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch node_modules; \
	fi
	@# The dashboard serves uPlot from web/vendor/ (gitignored).
	@if [ -d node_modules/uplot/dist ]; then mkdir -p web/vendor && \
	  cp -u node_modules/uplot/dist/uPlot.iife.min.js \
	    node_modules/uplot/dist/uPlot.min.css web/vendor/; fi

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVG_WERROR=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target vigil

run: build
	@mkdir -p var
	$(BUILD)/vigil serve --demo --db var/vigil.db --port $(PORT) --web-root web

# ASan + UBSan, clang (for the libFuzzer smoke runs), every suite via ctest.
test: deps
	@CC=clang cmake -S . -B $(TESTBUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DVG_SANITIZE=ON -DVG_FUZZ=ON >/dev/null
	@cmake --build $(TESTBUILD) -j $(JOBS)
	@cd $(TESTBUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DVG_WERROR=OFF >/dev/null
	@cmake --build build-bench -j $(JOBS)
	@bash bench/run.sh build-bench

# Long libFuzzer campaign: FUZZ_SECONDS per target, corpus saved in tree.
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DVG_SANITIZE=ON -DVG_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@# New inputs go to a scratch dir; afterwards only coverage-increasing
	@# inputs are merged into a fresh dir that replaces the saved corpus.
	@# FUZZ_TARGETS="fuzz_http fuzz_auth" limits the campaign.
	@for f in build-fuzz/fuzz/fuzz_*; do \
	  n=$$(basename $$f); \
	  if [ -n "$(FUZZ_TARGETS)" ] && ! echo " $(FUZZ_TARGETS) " | grep -q " $$n "; then continue; fi; \
	  c=tests/fuzz/corpus/$$n; s=build-fuzz/scratch/$$n; m=build-fuzz/merged/$$n; \
	  rm -rf $$s $$m; mkdir -p $$c $$s $$m; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=2048 \
	    -timeout=10 -artifact_prefix=build-fuzz/ $$s $$c || exit 1; \
	  $$f -merge=1 $$m $$c $$s >/dev/null 2>&1 || exit 1; \
	  rm -rf $$c && mv $$m $$c && echo "   corpus: $$(ls $$c | wc -l) files, $$(du -sh $$c | cut -f1)"; \
	done

# Banned functions (STYLE.md H12) and formatting.
checksrc:
	@! grep -rnE '\b(sprintf|strcpy|strcat|atoi|atol|strtok|gets)\s*\(' src algo || \
	  { echo "checksrc: banned function"; exit 1; }
	@! grep -rnE '(^|[^_a-z])(malloc|calloc|realloc|free)\s*\(' src --include=*.c | \
	  grep -v 'src/core_alloc.c' | grep -v 'sqlite3_free\|json_\|MHD_\|allocated by lib' || \
	  { echo "checksrc: raw allocation outside core_alloc.c"; exit 1; }

clean:
	rm -rf $(BUILD) $(TESTBUILD) build-bench build-fuzz
