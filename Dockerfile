# One image for web, worker and beat. The ML extra is not installed: GPU workers build FROM this
# image and add `pip install torch==2.13.0 && pip install -e ".[train]"`.
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 RLHF_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY common ./common
COPY annotation ./annotation
COPY training ./training
COPY manage.py ./
RUN pip install .

# The browser app: its API types come from this code's OpenAPI schema, then Vite builds it.
FROM app AS schema
RUN DJANGO_SECRET_KEY=schema-generation-only \
    python manage.py spectacular --format openapi-json --file /tmp/openapi.json

FROM node:20-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
COPY --from=schema /tmp/openapi.json ./openapi.json
RUN npm run types && npm run build

FROM app
COPY --from=frontend /frontend/dist ./frontend/dist
RUN useradd --create-home --uid 1000 studio && mkdir -p /app/var && chown -R studio /app/var
USER studio
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--worker-class", "config.gunicorn_workers.SyncWorkerJsonErrors"]
