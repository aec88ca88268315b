"""Adobe's error answers, in the three shapes its documents show: Flow Service, the API gateway, BadRequestError.

`CATALOGUE` is Flow Service's error catalogue ("Flow Service error messages",
Experience League, sources/errors/flow-service-errors) for the codes the
emulator answers with: each code's title and the status it carries, checked
against the catalogue's table. The emulator answers with no Flow Service code
outside it.
"""

from __future__ import annotations

import json

from flask import Response, g

ERROR_TYPE = "https://ns.adobe.com/aep/errors/"

# code → title, as the catalogue lists them (only those the emulator uses).
CATALOGUE = {
    "1100-400": "Invalid request",
    "1101-404": "Resource not found",
    "1401-400": "Invalid request",
    "1403-400": "Header is missing",
    "1404-412": "Version not matching",
    "1405-400": "Invalid request",
    "1412-400": "Invalid request",
    "1413-400": "Invalid request",
    "1414-400": "Invalid request",
    "1415-400": "Invalid request",
    "1418-400": "Invalid request",
    "1419-400": "Invalid request",
    "1425-400": "Invalid request",
    "1432-400": "Invalid request",
    "1433-400": "Invalid request",
    "1434-400": "Invalid request",
    "1440-400": "Invalid request",
    "1443-400": "Invalid request",
    "1447-400": "Invalid request",
    "1450-400": "Invalid request",
    "1451-400": "Invalid request",
    "1453-400": "Invalid request",
    "1455-400": "Invalid request",
    "2101-404": "Sandbox not found",
    "2106-404": "Get default sandbox error",
}


def json_response(body, status=200, headers=None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def flow_error(code: str, detail: str) -> Response:
    """A Flow Service error in Adobe's shape; `code` must be in the catalogue."""
    title = CATALOGUE[code]
    status = int(code.rsplit("-", 1)[1])
    body = {
        "type": f"{ERROR_TYPE}FLOW-{code}",
        "title": title,
        "status": status,
        "report": {"detailed-message": detail, "request-id": g.request_id},
        "errorMessage": detail,
        "errorDetails": {},
    }
    return json_response(body, status)


def gateway_error(status: int, code: str, message: str) -> Response:
    """An API gateway error, answered before Flow Service sees the request (troubleshooting guide)."""
    return json_response({"error_code": code, "message": message}, status)


def bad_request(detail: str) -> Response:
    """The platform-wide 400 for a body without a valid Content-Type (troubleshooting guide)."""
    return json_response(
        {"type": "/placeholder/type/uri", "status": 400, "title": "BadRequestError", "detail": detail}, 400
    )


def too_large(limit: int) -> Response:
    """A body over the emulator's limit: 413 in the platform's problem shape, as the content-type refusal is (our
    choice: Adobe documents no request size limit for these APIs, nor an answer to one)."""
    return platform_error(413, "PayloadTooLargeError", f"The request body is larger than {limit} bytes.")


def platform_error(status: int, title: str, detail: str) -> Response:
    """A refusal of Catalog, the Schema Registry or Data Prep: their specs document the status and no body, so the
    body is the platform's problem shape from the troubleshooting guide (our choice), with the request id."""
    return json_response(
        {
            "type": f"{ERROR_TYPE}{title}",
            "status": status,
            "title": title,
            "detail": detail,
            "report": {"request-id": g.request_id},
        },
        status,
    )
