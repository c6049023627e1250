# Huitaine in a container: `huitaine run` with its database on the /data volume.
#   docker build -t huitaine .
#   docker run --rm huitaine demo                      # the bundled example, nothing sent
#   docker compose up -d                               # the live bot (see compose.yaml)
# Tokens come from the environment (TELEGRAM_TOKEN, DISCORD_TOKEN), never from the image.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HUITAINE_DATA_DIR=/data/.huitaine

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY huitaine ./huitaine
COPY bot ./bot
COPY adapters ./adapters
COPY responses ./responses
COPY examples ./examples
# The base install carries the transformer detector (ONNX Runtime, no torch); its model cache
# is written once under HUITAINE_DATA_DIR, on the volume, so a new container reuses it.
RUN pip install '.[telegram,discord,metrics]' \
    && useradd --create-home --uid 10001 huitaine \
    && mkdir /data \
    && chown huitaine /data

USER huitaine
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9108

# /healthz answers 503 when the event loop stalls or the database cannot be read.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["huitaine"]
# Inside the container the metrics listen on every interface so that the health check and a
# port mapping reach them; compose.yaml publishes the port on the host's 127.0.0.1 only.
CMD ["run", "--db", "/data/huitaine.db", "--metrics-port", "9108", "--metrics-host", "0.0.0.0"]
