# srlm: two commands set everything up on a fresh machine.
#   make demo   builds srlm (release), installs the engines (venv, llama.cpp server, TRL, SmolLM2) and runs a small real loop
#   make test   builds srlm, installs the engines (a no-op once done) and runs the test suite
SWIFT_BUILD = swift build --build-tests

.PHONY: build release setup test test-fast bench bench-store bench-engine faults demo experiment system-deps install

# `make install [PREFIX=~/.local]`: a release build on the PATH, with shell completions. The binary is linked, not
# copied: srlm finds its engines, venv and models in this checkout by following the link (or $SRLM_HOME).
PREFIX ?= $(HOME)/.local

# chromium: the report's browser test (ReportBrowserTests) renders the HTML report headless.
system-deps:
	@command -v apt-get >/dev/null && { dpkg -s libzstd-dev zstd libsqlite3-dev zlib1g-dev sqlite3 chromium >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libzstd-dev zstd libsqlite3-dev zlib1g-dev sqlite3 chromium; }; } || true

build: system-deps
	$(SWIFT_BUILD)

# What users run: the demo, the experiment and the benchmarks use the release build (tests keep debug).
release: system-deps
	swift build -c release --product srlm
	swift build -c release --product srlmsqlite

install: release
	mkdir -p $(PREFIX)/bin $(PREFIX)/share/bash-completion/completions $(PREFIX)/share/zsh/site-functions \
	  $(PREFIX)/share/fish/vendor_completions.d
	ln -sf $(CURDIR)/.build/release/srlm $(PREFIX)/bin/srlm
	$(PREFIX)/bin/srlm --generate-completion-script bash > $(PREFIX)/share/bash-completion/completions/srlm
	$(PREFIX)/bin/srlm --generate-completion-script zsh > $(PREFIX)/share/zsh/site-functions/_srlm
	$(PREFIX)/bin/srlm --generate-completion-script fish > $(PREFIX)/share/fish/vendor_completions.d/srlm.fish
	@echo "installed $(PREFIX)/bin/srlm -> $(CURDIR)/.build/release/srlm; the SQLite extension is $(CURDIR)/.build/release/libsrlmsqlite.so"
	@echo "next: srlm doctor"

setup: system-deps
	bash engines/setup.sh

# The engine-backed suites start llama.cpp and train with TRL: they need the engines (setup is idempotent).
test: setup build
	bash bench/faults/kill-resume.sh --kills 5
	bash bench/faults/engine-kill-resume.sh --kills 5
	swift test --skip-build

# Faults through the CLI: 100 random SIGKILLs with resume, two experiments at once, a full disk (root: tmpfs); first
# in the store's own commands, then in gen-candidates, judge and training against the real engines.
faults: setup build
	bash bench/faults/kill-resume.sh --kills $(or $(KILLS),100)
	bash bench/faults/engine-kill-resume.sh --kills $(or $(KILLS),100)

# The unit suites alone: no engines, no set-up beyond the system libraries; the suites under EngineBacked (llama.cpp,
# TRL) are skipped. What CI runs is `make test`.
test-fast: build
	swift test --skip-build --skip EngineBacked

# Benchmarks (release builds, run on demand): the store beside DuckDB, Parquet and zstd (bench-store), the ROUGE-L
# near-duplicate index, and gen-candidates and judge against a bare client and distilabel on the local server
# (bench-engine; needs `make setup`).
bench: bench-store bench-engine
	swift build -c release --product srlm-bench-rouge
	.build/release/srlm-bench-rouge $(ROUGE_ARGS)

bench-engine: bench/engine/.venv/bin/python
	swift build -c release --product srlm-bench-engine
	.build/release/srlm-bench-engine --distilabel bench/engine/.venv/bin/python $(ENGINE_ARGS)

# The engine benchmark's peer: PyPI distilabel (its OpenAILLM; distilabel 1.5.3 imports requests without declaring it).
bench/engine/.venv/bin/python:
	python3 -m venv bench/engine/.venv
	bench/engine/.venv/bin/pip install -q "distilabel[openai]==1.5.3" requests==2.34.2

# The store benchmark's peers live in their own venv (PyPI duckdb, pyarrow); the zstd CLI comes with the system.
bench/.venv/bin/python:
	python3 -m venv bench/.venv
	bench/.venv/bin/pip install -q duckdb==2.0.0 pyarrow==26.0.1

bench-store: system-deps bench/.venv/bin/python
	swift build -c release --product srlm-bench-store
	bench/.venv/bin/python bench/store/peers.py --bench .build/release/srlm-bench-store $(STORE_ARGS)

demo: setup release
	bash engines/demo.sh

# The local reproduction (about 50 minutes on 2 cores): SFT baseline, M1 (IFT + EFT), M2, M3 from
# experiments/smollm2-cpu.yaml, measured per checkpoint; writes docs/RESULTS.md from experiment.sqlite.
experiment: setup release
	bash engines/experiment.sh
