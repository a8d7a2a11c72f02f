"""Prometheus metrics shared by every component. Each service adds its own in its metrics module."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

# Buckets reach minutes because big drawings and photos take that long.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

GRPC_REQUESTS = Counter(
    "cad3d_grpc_server_requests_total", "gRPC requests handled, by method and status code.", ["method", "code"]
)
GRPC_DURATION = Histogram(
    "cad3d_grpc_server_request_duration_seconds",
    "gRPC request duration, by method.",
    ["method"],
    buckets=DURATION_BUCKETS,
)
CONVERSIONS = Counter(
    "cad3d_conversions_total", "Conversions run by a service core, by kind and outcome.", ["kind", "outcome"]
)
CONVERSION_DURATION = Histogram(
    "cad3d_conversion_duration_seconds", "Duration of one conversion, by kind.", ["kind"], buckets=DURATION_BUCKETS
)


def start_metrics_server(port: int, host: str = "0.0.0.0") -> int:  # noqa: S104
    """Serve /metrics on its own port (gRPC services have no HTTP server). Returns the bound port."""
    if port <= 0:
        return 0
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_port)
