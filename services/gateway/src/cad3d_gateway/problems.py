"""RFC 9457 problem details: every error leaves the gateway as application/problem+json with a stable code."""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from nats.errors import Error as NatsError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cad3d_kit.conversion import ConversionError
from cad3d_kit.errors import HTTP_STATUS_BY_KIND

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("cad3d.gateway")


class Problem(BaseModel):
    """The body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str = ""
    instance: str = ""


class ProblemError(Exception):
    def __init__(
        self, status: int, code: str, title: str, detail: str = "", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.headers = headers or {}


def problem_response(
    request: Request, status: int, code: str, title: str, detail: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    if status >= 500:
        # The connection may be in an unknown state (a body half read, a failed dependency):
        # clients and proxies must not reuse it for the next request.
        headers = {**(headers or {}), "Connection": "close"}
    body = Problem(
        type=f"https://cad3d.dev/problems/{code}",
        title=title,
        status=status,
        code=code,
        detail=detail,
        instance=str(request.url.path),
    )
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def conversion_problem(error: ConversionError) -> ProblemError:
    return ProblemError(HTTP_STATUS_BY_KIND[error.kind], error.code, "Conversion failed", error.message)


RETRY_AFTER = {"Retry-After": "5"}
# No space left, or the quota of the volume or bucket used up.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def storage_problem(exc: Exception) -> ProblemError:
    """The artifact store failed a write or read: full (507) or unavailable (503, retry)."""
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return ProblemError(507, "storage_full", "The artifact store is full", "try again later", RETRY_AFTER)
    return ProblemError(
        503,
        "storage_unavailable",
        "The artifact store is not available",
        f"{type(exc).__name__}; retry later",
        RETRY_AFTER,
    )


def queue_problem(exc: Exception | None = None) -> ProblemError:
    cause = f" ({type(exc).__name__})" if exc is not None else ""
    return ProblemError(
        503,
        "queue_unavailable",
        "The job queue is not available",
        f"NATS did not answer{cause}; retry later",
        RETRY_AFTER,
    )


def is_storage_error(exc: BaseException) -> bool:
    """An error of the artifact store: a file system error, or the S3 client's."""
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        return True
    module = type(exc).__module__
    return module.startswith(("minio", "urllib3"))


class CloseOnServerError:
    """Every 5xx response ends its connection (``Connection: close``), whoever produced it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 500:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing)


_HTTP_CODES = {
    400: "invalid_upload",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.title, exc.detail, exc.headers)

    @app.exception_handler(ConversionError)
    async def _conversion(request: Request, exc: ConversionError) -> JSONResponse:
        problem = conversion_problem(exc)
        return problem_response(request, problem.status, problem.code, problem.title, problem.detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: list[dict[str, Any]] = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
        return problem_response(request, 422, "invalid_request", "The request is not valid", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        if exc.status_code == 400:  # the multipart parser's: a broken body, or a part past its limits
            detail = (
                f"{exc.detail} The body must be multipart/form-data with a correct boundary; file names are "
                "kept under 1,000 characters and form fields other than files under 1 MiB."
            )
            return problem_response(request, 400, code, "The upload could not be read", detail)
        return problem_response(request, exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(NatsError)
    async def _queue(request: Request, exc: NatsError) -> JSONResponse:
        log.warning("NATS failed on %s: %r", request.url.path, exc)
        problem = queue_problem(exc)
        return problem_response(request, problem.status, problem.code, problem.title, problem.detail, problem.headers)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        if is_storage_error(exc):
            log.warning("storage failed on %s: %r", request.url.path, exc)
            problem = storage_problem(exc)
            return problem_response(
                request, problem.status, problem.code, problem.title, problem.detail, problem.headers
            )
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(request, 500, "internal_error", "Internal error", "see the gateway log")
