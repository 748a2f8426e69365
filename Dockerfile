# One image for every command: pricing-edge serve | worker | warm | ops | sim ... | demo.
#   docker build -t pricing-edge .
#   docker run --rm -p 8080-8083:8080-8083 pricing-edge demo --host 0.0.0.0
#   docker run --rm -e PRICING_EDGE_REDIS_URL=redis://redis:6379/0 -e PRICING_EDGE_EVENT_SECRET=whsec_... pricing-edge
# The install steps live in packaging/build-venv.sh, which the packaging tests run too.

# --- build: the wheel, then a virtualenv holding it and its dependencies ----------------------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pricing_edge ./pricing_edge
COPY packaging/build-venv.sh ./packaging/build-venv.sh
RUN sh packaging/build-venv.sh /src /opt/pricing-edge

# --- run: only that virtualenv on a slim Python (no compiler, no sources), as an unprivileged user --------
FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/pricing-edge --create-home pricing-edge
COPY --from=build /opt/pricing-edge /opt/pricing-edge
ENV PATH=/opt/pricing-edge/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PRICING_EDGE_SCHEMA_CACHE=/var/lib/pricing-edge/upstream-schema.json \
    HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
WORKDIR /var/lib/pricing-edge
USER 10001:10001
# 8080: the edge (serve, demo); 8083: a worker's ops API and metrics (keep it private)
EXPOSE 8080 8083
# The edge's /healthz by default; a worker container sets HEALTHCHECK_URL=http://127.0.0.1:8083/healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]
ENTRYPOINT ["pricing-edge"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
