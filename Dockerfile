# AEP Source Wizard: gunicorn on 0.0.0.0:8000 as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WIZARD_HOST=0.0.0.0 \
    WIZARD_PORT=8000 \
    WIZARD_DATA_DIR=/var/lib/aep-source-wizard

WORKDIR /srv/wizard

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY pyproject.toml README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir --no-deps . \
    && useradd --system --uid 10001 --no-create-home wizard \
    && mkdir -p /var/lib/aep-source-wizard \
    && chown 10001 /var/lib/aep-source-wizard

# The SQLite store (submission keys, audit trail) when WIZARD_DATABASE_URL is not set.
VOLUME ["/var/lib/aep-source-wizard"]

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WIZARD_PORT', '8000'), timeout=4)"]
CMD ["aep-source-wizard"]
