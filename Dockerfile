# One image for every mlaudit service: web (gunicorn), worker and beat (Celery) and the one-shot migrate.
# Build: docker build -t mlaudit .   It holds no secret: SECRET_KEY and passwords come at run time.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
ARG UV_VERSION=0.13.9
RUN python -m venv /opt/venv && pip install "uv==${UV_VERSION}"
WORKDIR /app
# Exactly the versions the tests ran with (uv.lock); dependencies first, so a code change reuses this layer.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_NO_CACHE=1
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-editable --quiet
COPY . .
RUN uv sync --locked --no-editable --quiet
# DEBUG=true only lets the settings load without a SECRET_KEY here; the files are written for
# production: hashed and compressed for WhiteNoise, translations compiled.
RUN DEBUG=true STATIC_ROOT=/app/staticfiles \
        STATICFILES_STORAGE=whitenoise.storage.CompressedManifestStaticFilesStorage \
        python manage.py collectstatic --noinput -v0 \
    && if [ -d locale ]; then DEBUG=true python manage.py compilemessages -v0; fi \
    && rm -rf var && mkdir var \
    && python -m compileall -q config rubric audits integrations

FROM python:${PYTHON_VERSION}-slim
ENV PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH DJANGO_SETTINGS_MODULE=config.settings \
    DEBUG=false STATIC_ROOT=/app/staticfiles MLAUDIT_VAR_DIR=/app/var
RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin mlaudit
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# The code stays owned by root; the app writes only to var/ (beat's schedule, first-run notes).
RUN chown mlaudit /app/var
WORKDIR /app
USER mlaudit
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py"]
