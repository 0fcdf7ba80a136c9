# Escalation Workshop. `make run` to use it, `make test` to check it. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages: graphviz draws the ladder, pango/harfbuzz/fonts let WeasyPrint render the pack,
# chromium runs the browser tests, poppler-utils gives pdfsig to check signatures by hand,
# prometheus gives promtool, which the tests run on the exported rules (not needed at run time).
SYSTEM_PACKAGES := graphviz fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b chromium poppler-utils prometheus

.PHONY: run serve test bench load lint format env system-packages db db-stop migrate demo worker clean-db

run: env system-packages .env db migrate demo ## Serve the app with a demo engagement on http://$(HOST):$(PORT)
	@$(MAKE) --no-print-directory serve

# What `make run` ends with; tests/test_embedded_lifecycle.py starts and stops it twenty times.
# Stopping it (any signal to the group) leaves the database server running for the next start.
serve:
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C stops the server and the worker)"
	@trap 'kill 0' EXIT; \
	DEBUG=true $(MANAGE) db_worker --no-reload & \
	DEBUG=true $(MANAGE) runserver $(HOST):$(PORT)

test: env system-packages db lint ## Lint, migrations check and the whole suite (browser tests included)
	DEBUG=true $(MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/pytest

lint: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: env
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Every page over HTTP against gunicorn (production settings and configuration), interleaved
# with /healthz as the floor, for the demo and a ten-times engagement; then the load test.
bench: env system-packages migrate demo ## Page latency and query counts, then the load test
	$(LOAD_ENV) $(MANAGE) collectstatic --no-input -v0
	$(LOAD_ENV) $(MANAGE) bench
	$(LOAD_ENV) $(MANAGE) bench_fresh_workers
	$(LOAD_ENV) $(MANAGE) bench_monitoring
	$(MAKE) --no-print-directory load

# 50 concurrent users for 60 s against gunicorn (production settings and the production gunicorn
# configuration, config/gunicorn.py: --preload, gthread), headless locust.
LOAD_ENV := DEBUG=false SECRET_KEY=load-test-only-not-a-secret ALLOWED_HOSTS=127.0.0.1 AXES_ENABLED=false
load: env db migrate demo
	$(LOAD_ENV) $(MANAGE) collectstatic --no-input -v0
	@$(LOAD_ENV) $(VENV)/bin/gunicorn --config config/gunicorn.py config.wsgi:application \
	  --bind 127.0.0.1:8001 --daemon --pid .load-gunicorn.pid --error-logfile .load-gunicorn.log
	@for attempt in $$(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/8001) 2>/dev/null && break; sleep 0.3; done; \
	status=0; \
	$(LOAD_ENV) $(VENV)/bin/locust -f tests/load/locustfile.py --headless --users 50 --spawn-rate 10 \
	  --run-time 60s --host http://127.0.0.1:8001 --only-summary || status=$$?; \
	kill $$(cat .load-gunicorn.pid); rm -f .load-gunicorn.pid; exit $$status

migrate: env db
	DEBUG=true $(MANAGE) migrate --no-input

demo: env db
	DEBUG=true $(MANAGE) load_demo

worker: env db
	DEBUG=true $(MANAGE) db_worker --no-reload

env: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock .python-version
	@command -v uv >/dev/null || python3 -m pip install --quiet uv
	UV_PYTHON_DOWNLOADS=never uv sync --frozen --python "$$(cat .python-version)"
	@touch $@

system-packages:
	@missing=""; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdfsig >/dev/null || missing="$$missing poppler-utils"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1 || missing="$$missing fonts-dejavu-core"; \
	ldconfig -p | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing system packages. Run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# The embedded PostgreSQL in .pgdata/ (config/embedded.py): started once per target, then left
# running; start and stop are idempotent. Skipped when DATABASE_URL is set.
db: env
	@$(PY) -m config.embedded start >/dev/null

db-stop: env
	$(PY) -m config.embedded stop

# A local .env with development settings and a generated key, read by the settings: the README's
# manage.py commands work as written. Never overwritten.
.env: | env
	@$(PY) -m config.local_env write $@

clean-db: env ## Stop and delete the embedded PostgreSQL data (.pgdata)
	$(PY) -m config.embedded stop
	rm -rf .pgdata
