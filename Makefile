# nbviz developer commands. Each target does its own set-up and is safe to run again.
#   make demo   -> .venv with nbviz[demo], JS bundles built, JupyterLab on the quickstart notebook
#   make test   -> .venv with nbviz[test], Chromium if missing, JS unit tests, the whole pytest suite
#   make docs   -> .venv with nbviz[docs], the HTML documentation in docs/_build/html
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: demo test js chromium wheel bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade "pip>=23.1"

# The stamp records which extras are installed; it is redone when pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[$*]"
	touch $@

js/node_modules/.package-lock.json: js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund

js: js/node_modules/.package-lock.json
	cd js && npm run build

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# The numerics suites run a second time with the other torch thread count (the t-SNE tests
# default to 1 thread, the CAM tests to 2): other summation orders must pass too.
test: $(VENV)/.installed-test js chromium
	cd js && npm test
	$(PY) -m pytest $(ARGS)
	NBVIZ_TEST_THREADS=2 $(PY) -m pytest -q -p no:cacheprovider tests/tsne
	NBVIZ_TEST_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider tests/cam

demo: $(VENV)/.installed-demo js
	$(VENV)/bin/jupyter lab notebooks/quickstart.ipynb --ServerApp.ip=127.0.0.1 $(ROOT_FLAG) $(ARGS)

wheel: js/node_modules/.package-lock.json | $(PY)
	$(PY) -m pip install --quiet build
	$(PY) -m build --wheel --outdir dist .

# Side-by-side timings against the reference libraries (slow; not part of `make test`).
bench: $(VENV)/.installed-test js chromium
	$(PY) benchmarks/cam_latency.py
	$(PY) benchmarks/cam_explorer_latency.py
	$(PY) benchmarks/tsne_speed.py
	$(PY) benchmarks/tsne_stream.py

# API reference from the docstrings and the example notebooks (as saved, not run). -E rereads every
# page so every warning shows; -W -n: a warning or a broken reference fails the build.
docs: $(VENV)/.installed-docs
	$(PY) -m sphinx -E -W --keep-going -n -b html docs docs/_build/html
	@echo "Documentation: docs/_build/html/index.html"

clean:
	rm -rf $(VENV) js/node_modules js/build nbviz/static dist build docs/_build docs/_generated
