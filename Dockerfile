# The web and worker image. Same commands as the Makefile: uv sync from the lock file, migrate,
# gunicorn for the web, `manage.py db_worker` for background work.
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH UV_PYTHON_DOWNLOADS=never

RUN apt-get update \
 && apt-get install -y --no-install-recommends graphviz fonts-dejavu-core libpango-1.0-0 \
    libpangoft2-1.0-0 libharfbuzz0b make \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv \
 && useradd --create-home --uid 1000 workshop

WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev --python /usr/local/bin/python3.13
COPY . .
RUN DEBUG=true SECRET_KEY=collectstatic-only DATABASE_URL=postgres://unused/none \
    python manage.py collectstatic --no-input

USER workshop
EXPOSE 8000
# Workers, threads, --preload and keep-alive: config/gunicorn.py, shared with `make load`.
CMD ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi:application"]
