# porto-exporter container image.
#
#   docker build --build-arg REVISION="$(git rev-parse --short=12 HEAD)" -t porto-exporter .
#   docker run -d --name porto-exporter -p 9658:9658 \
#     -v /run/portod.socket:/run/portod.socket porto-exporter
#
# portod's socket is mode 0666 and every client may read (docs/porto.md §1.1), so the exporter runs as an
# unprivileged user and needs no capability. A full portod stop removes and re-creates the socket
# file, which leaves a bind-mounted file pointing at the old one; mount the directory instead to
# survive that: `-v /run:/host/run:ro ... --porto.socket=/host/run/portod.socket`.
# See README.md, "Deploying".

# The Swift this repository is built and tested with (CI: 6.3.1); Package.swift needs 6.1 or later.
ARG SWIFT_VERSION=6.3

# ================================================================================================
# Build: a static Swift standard library, so the runtime image needs no Swift runtime
# ================================================================================================
FROM swift:${SWIFT_VERSION}-bookworm AS build

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd-dev libgnutls28-dev libyaml-dev pkg-config libisal-dev libcrypt-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Resolve dependencies in their own layer: it is rebuilt only when the manifest changes.
COPY Package.* ./
RUN swift package resolve

COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product porto-exporter \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/porto-exporter" /staging/porto-exporter

# ================================================================================================
# Run: Debian slim with the runtime libraries of libmicrohttpd and libyaml beside the binary
# ================================================================================================
FROM debian:bookworm-slim

# Versions are not pinned: bookworm's security updates replace them, and a pin would break the
# build on the next update. GnuTLS comes with libmicrohttpd12; libisal2 is ISA-L (gzip); the other
# libraries the binary links (libcrypt, libstdc++, libgcc_s: `ldd` on a --static-swift-stdlib build)
# are part of the base image already.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd12 libyaml-0-2 libisal2 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin porto-exporter

COPY --from=build /staging/porto-exporter /usr/local/bin/porto-exporter

# porto_exporter_build_info{revision} (and --version): the commit the image was built from.
ARG REVISION=unknown
ENV PORTO_EXPORTER_REVISION=${REVISION}

USER 10001:10001
EXPOSE 9658
ENTRYPOINT ["/usr/local/bin/porto-exporter"]
CMD ["--porto.socket=/run/portod.socket"]
