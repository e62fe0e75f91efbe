# The two commands in README: `make demo` and `make test`. Everything they need is set up here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-portable test-gui-random venv lint samples stop clean bundle smoke package

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $@

venv: $(STAMP)

## Start the embedded store, upload the bundled samples, print one link per image.
demo:
	@scripts/system-deps.sh demo
	@scripts/system-deps.sh clamav
	@$(MAKE) --no-print-directory venv
	$(BIN)/desktop-uploader local-store start
	$(BIN)/desktop-uploader upload resources/samples/
	@echo "The local store keeps running; stop it with: $(BIN)/desktop-uploader local-store stop"
	@# with a display, open the window (the samples are in its history); headless, stay CLI-only
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		echo "Opening the window (close it to finish) ..."; $(BIN)/desktop-uploader gui; \
	else echo "No display: skipping the window (run $(BIN)/desktop-uploader on a desktop)."; fi

## Set up what the tests need (system packages when root, the venv) and run them.
test:
	@scripts/system-deps.sh test
	@$(MAKE) --no-print-directory venv
	$(BIN)/python -m pytest

## The whole suite again with the platform seam's portable fallbacks forced (what Windows gets:
## the keeper's IPC over loopback TCP with a token file, a watchdog for the decoders' memory cap).
## `make test` runs tests/test_platform.py both ways already.
test-portable:
	@scripts/system-deps.sh test
	@$(MAKE) --no-print-directory venv
	DESKTOP_UPLOADER_PLATFORM=portable $(BIN)/python -m pytest

## The GUI tests N times in random order (pytest-randomly), stopping at the first failure.
RUNS ?= 20
test-gui-random: venv
	@for i in $$(seq $(RUNS)); do echo "run $$i of $(RUNS)"; \
		$(BIN)/python -m pytest tests/gui -q -o addopts="-ra --strict-markers" || exit 1; done

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

samples: venv
	$(BIN)/python scripts/make_samples.py

stop:
	$(BIN)/desktop-uploader local-store stop

## The frozen app (dist/desktop-uploader/), its smoke test, and the Linux installables
## (dist/*.tar.gz with install.sh, dist/*.deb). docs/packaging.md has Windows and macOS.
bundle: venv
	@mkdir -p build  # the lock keeps test runs and packaging from using a half-built bundle
	flock build/.bundle.lock $(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist \
		--workpath build/pyinstaller packaging/desktop_uploader.spec

smoke: bundle
	$(BIN)/python packaging/smoke_test.py

package: smoke
	packaging/linux/build.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
