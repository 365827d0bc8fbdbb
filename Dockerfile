# syntax=docker/dockerfile:1
# A small static image of the gateway: built with CGO off, run on
# distroless/static as a non-root user (no shell, no package manager).
#
#   docker build -t fedgate .
#   docker run -p 4000:4000 fedgate                        # the demo
#   docker run -p 4000:4000 -p 9090:9090 -v $PWD:/etc/fedgate -e FEDGATE_METRICS_LISTEN=0.0.0.0:9090 fedgate \
#     serve --config /etc/fedgate/gateway.yaml --supergraph /etc/fedgate/supergraph.graphql --listen 0.0.0.0:4000

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so that a code change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/gateway ./cmd/gateway

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /gateway
USER nonroot:nonroot
# 4000: GraphQL, /health, /ready. 9090: /metrics once telemetry.metrics.prometheus.listen
# is 0.0.0.0:9090 (its default, 127.0.0.1:9090, is the container's loopback: the demo's
# metrics are not reachable from outside; the k8s ConfigMap and gateway.example.yaml's
# FEDGATE_METRICS_LISTEN set it).
EXPOSE 4000 9090
ENTRYPOINT ["/gateway"]
CMD ["demo", "--listen", "0.0.0.0:4000"]
