"""RFC 9457 problem details: every error leaves the gateway as application/problem+json with a stable code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

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


_HTTP_CODES = {
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
        return problem_response(request, exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(request, 500, "internal_error", "Internal error", "see the gateway log")
