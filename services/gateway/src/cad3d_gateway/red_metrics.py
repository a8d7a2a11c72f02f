"""RED metrics per route, and the caller's RateLimit-* headers on every answer.

Plain ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware runs the app in
a separate task and re-streams its response, which cost a noticeable share of every request.
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cad3d_gateway.metrics import HTTP_DURATION, HTTP_REQUESTS


class RedMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Set by the auth dependency (request.state is scope["state"]).
                rate_limit = scope.get("state", {}).get("rate_limit")
                if rate_limit is not None:
                    headers = MutableHeaders(scope=message)
                    for name, value in rate_limit.headers().items():
                        headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(route, scope["method"], str(status)).inc()
            HTTP_DURATION.labels(route, scope["method"]).observe(time.perf_counter() - started)
