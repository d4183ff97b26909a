# One image for web, worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 mlaudit
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY rubric ./rubric
COPY audits ./audits
COPY integrations ./integrations
RUN pip install .
COPY . .
RUN DEBUG=true python manage.py collectstatic --noinput \
    && (test ! -d locale || DEBUG=true python manage.py compilemessages) \
    && mkdir -p /app/var && chown -R mlaudit /app/var
USER mlaudit
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
