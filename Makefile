# Keepword: `make serve` and `make test` do all set-up on a fresh Debian 12.
# CMake (Ninja) does the building; this file only strings the steps together.

BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_GEN  := -G Ninja

.PHONY: all build deps lint test test-fast test-asan test-tsan bench fuzz serve clean format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc

$(ASAN_BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DKW_SANITIZE=ON

$(TSAN_BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DKW_TSAN=ON

$(BENCH_BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Lint first, then every suite twice: gcc (optimised) and clang with
# ASan + UBSan; then the suites that run threads once more under TSan.
test: lint test-fast test-asan test-tsan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Longer fuzzing than make test's short runs: each libFuzzer target (ASan and
# UBSan, clang) for FUZZ_SECONDS (default 1800) on its seed corpus; new inputs
# go to $(ASAN_BUILD)/fuzz-corpus/NAME. Prints each target's last status line
# (executions, coverage); stops at the first crash.
FUZZ_SECONDS ?= 1800
fuzz: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	@for f in $(ASAN_BUILD)/fuzz_*; do \
	    n=$${f##*/fuzz_}; mkdir -p $(ASAN_BUILD)/fuzz-corpus/$$n; \
	    echo "fuzz $$n: $(FUZZ_SECONDS) s (log: $(ASAN_BUILD)/fuzz-$$n.log)"; \
	    if ! ASAN_OPTIONS=detect_leaks=1 $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $(ASAN_BUILD)/fuzz-corpus/$$n tests/fuzz/corpus/$$n >$(ASAN_BUILD)/fuzz-$$n.log 2>&1; then \
	        tail -40 $(ASAN_BUILD)/fuzz-$$n.log; exit 1; fi; \
	    grep -E '^#[0-9]+' $(ASAN_BUILD)/fuzz-$$n.log | tail -1; \
	    grep -E '^stat::number_of_executed_units' $(ASAN_BUILD)/fuzz-$$n.log; \
	done

# Formatting (clang-format 14, as in Debian 12) and shellcheck (.shellcheckrc);
# make test runs it first.
lint: deps
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	shellcheck $$(git ls-files 'tests/*.sh' 'bench/*.sh' 'scripts/*.sh') .ci/run

# ThreadSanitizer over what runs threads: the store and engine unit tests and
# the HTTP suites (they start the TSan-built server and fail on a report in its
# log). Suppressions (tests/tsan.supp) are for third-party internals only.
# The report suites draw PDFs: pango runs fontconfig on a glib thread of its
# own, whose hand-offs TSan cannot see (one suppression, in tests/tsan.supp).
TSAN_TARGETS := keepword kwload whsink smtpsink test_store test_clocks test_timers
TSAN_TESTS := unit_store|unit_clocks|unit_timers|http|http_kpi|http_concurrency|http_engine|http_web|http_loop|http_confirm|http_replies|http_calendars|http_previews|http_stream|http_limits|http_search|http_attachments|http_people|http_views|http_inbox|http_intake|http_mail|http_report|http_report_mail
test-tsan: deps $(TSAN_BUILD)/build.ninja
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TARGETS)
	cd $(TSAN_BUILD) && \
	    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	    ctest --output-on-failure -j $(JOBS) -R '^($(TSAN_TESTS))$$'

bench: deps $(BENCH_BUILD)/build.ninja
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	$(BENCH_BUILD)/bench_calendar
	$(BENCH_BUILD)/bench_sla
	$(BENCH_BUILD)/bench_engine
	BENCH_CHAINS=1 $(BENCH_BUILD)/bench_engine
	BENCH_DUE=3000 $(BENCH_BUILD)/bench_engine
	BENCH_DUE=3000 BENCH_CHAINS=1 $(BENCH_BUILD)/bench_engine
	$(BENCH_BUILD)/bench_write
	$(BENCH_BUILD)/bench_log
	$(BENCH_BUILD)/bench_search
	$(BENCH_BUILD)/bench_store
	$(BENCH_BUILD)/bench_mail
	bench/intake_events.sh $(BENCH_BUILD)/keepword $(BENCH_BUILD)/kwload
	bench/eval_throughput.sh $(BENCH_BUILD)/keepword
	bench/http_load.sh $(BENCH_BUILD)/keepword $(BENCH_BUILD)/kwload
	bench/http_clients.sh $(BENCH_BUILD)/keepword $(BENCH_BUILD)/kwload
	bench/ui_board.sh $(BENCH_BUILD)/keepword $(BENCH_BUILD)/kwload
	bench/kpi.sh $(BENCH_BUILD)/keepword $(BENCH_BUILD)/bench_kpi
	bench/report.sh $(BENCH_BUILD)/keepword $(BENCH_BUILD)/bench_kpi
	bench/attachment_upload.sh $(BENCH_BUILD)/keepword
	bench/pg_http.sh $(BENCH_BUILD)/keepword $(BENCH_BUILD)/kwload
	BENCH_TICKETS=30000 BENCH_SECONDS=20 bench/pg_engine.sh $(BENCH_BUILD)/bench_engine

# Builds, creates var/keepword.db with an admin and the demo data if it does
# not exist, serves on http://127.0.0.1:8080 (README); keepword serve --demo
# prints the demo's logins on every start.
DB ?= var/keepword.db
LISTEN ?= 127.0.0.1:8080
DEMO_PASSWORD ?= keepword-demo
serve: build
	@mkdir -p $(dir $(DB))
	@if [ ! -f $(DB) ]; then \
	    KEEPWORD_ADMIN_PASSWORD="$${KEEPWORD_ADMIN_PASSWORD:-$(DEMO_PASSWORD)}" \
	        $(BUILD)/keepword init --db $(DB) && \
	    echo "log in as admin@localhost with password $${KEEPWORD_ADMIN_PASSWORD:-$(DEMO_PASSWORD)}"; \
	fi
	@echo "serving http://$(LISTEN)  (try: curl http://$(LISTEN)/healthz)"
	$(BUILD)/keepword serve --db $(DB) --listen $(LISTEN) --demo

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(BENCH_BUILD)
