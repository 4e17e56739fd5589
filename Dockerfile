# One image for web, worker and beat. The ML extra is not installed: GPU workers build FROM this
# image and add `pip install torch==2.13.0 && pip install -e ".[train]"`.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 RLHF_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY annotation ./annotation
COPY training ./training
COPY frontend ./frontend
COPY manage.py ./
RUN pip install . && useradd --create-home --uid 1000 studio && mkdir -p /app/var \
    && chown -R studio /app/var
USER studio
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
