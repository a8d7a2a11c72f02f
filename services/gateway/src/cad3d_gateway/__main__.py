"""``cad3d-gateway``: the public HTTP API, web page and job dispatcher."""

from __future__ import annotations

import uvicorn

from cad3d_gateway.app import create_app
from cad3d_gateway.settings import GatewaySettings
from cad3d_kit.logs import setup_logging
from cad3d_kit.settings import load_settings
from cad3d_kit.tracing import setup_tracing, shutdown_tracing


def main() -> None:
    settings = load_settings(GatewaySettings)
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name, settings.otlp_endpoint)
    app = create_app(settings)
    try:
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            timeout_graceful_shutdown=int(settings.job_timeout_seconds / 10) or 1,
        )
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
