# syntax=docker/dockerfile:1
#
# ozgflow: one static binary with the roles worker, gateway, sandbox, reindex
# and dev. docker-compose.yml runs the roles from this image; the command
# picks the role (`command: ["gateway"]`). Configuration comes from the
# environment (README.md, "Configuration").

## Build stage ###############################################################
FROM golang:1.26-bookworm AS build

WORKDIR /src
ENV CGO_ENABLED=0

# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

# Then the sources. The build cache mount keeps compiled packages (the
# embedded Temporal server takes minutes) across image builds.
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -o /out/ozgflow ./cmd/ozgflow

# The data directory (sandbox state, signer key), owned by the runtime user,
# so that a named volume mounted there is writable.
RUN mkdir -p /out/data

## Runtime stage #############################################################
# Distroless: no shell, no package manager, CA certificates and tzdata
# included. Health checks use `/ozgflow healthcheck URL` instead of curl.
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/ozgflow /ozgflow
COPY --from=build --chown=65532:65532 /out/data /data

ENV OZGFLOW_DATA_DIR=/data
WORKDIR /data
# 65532 is distroless' nonroot user.
USER 65532:65532

# 8080: gateway and sandbox (OZGFLOW_ADDR); 9090: the worker's /metrics,
# /healthz and /readyz (OZGFLOW_METRICS_ADDR).
EXPOSE 8080 9090

ENTRYPOINT ["/ozgflow"]
CMD ["help"]
