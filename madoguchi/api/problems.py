"""Errors as RFC 9457 problem details (`application/problem+json`) with a stable `code`."""

from typing import Any

from django.http import HttpRequest, JsonResponse

from madoguchi.errors import STATUS_BY_CODE, TITLES, BookingError, RateLimited

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    code: str,
    detail: str = "",
    *,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    status = STATUS_BY_CODE[code]
    body: dict[str, Any] = {
        "type": f"urn:madoguchi:problem:{code}",
        "title": str(TITLES[code]),
        "status": status,
        "code": code,
        "detail": detail or str(TITLES[code]),
    }
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    response = JsonResponse(
        body,
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def booking_error_response(request: HttpRequest, error: BookingError) -> JsonResponse:
    headers = None
    if error.code == "unauthorized":
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(error, RateLimited):
        headers = {"Retry-After": str(error.retry_after)}
    return problem_response(error.code, error.detail, field=error.field, headers=headers)
