"""Adobe's error answers turned into messages a person can act on."""

from __future__ import annotations

from ..wording import plural, sentence
from .http import Answer


class AdobeError(Exception):
    """A call to Adobe failed.

    `message` is for people and never holds a secret; `status` is what our page
    answers with (a 4xx when the person can fix the input, 502 otherwise);
    `code` is Adobe's own code (FLOW-1415-400, 401013, invalid_client), `request_id`
    the id Adobe support asks for; `retry_after` seconds when Adobe asked us to wait.
    """

    def __init__(self, message, *, status=502, code=None, request_id=None, retry_after=None, upstream_status=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.upstream_status = upstream_status

    def _coded(self, *codes: str) -> bool:
        return (self.code or "").endswith(codes)

    @property
    def not_found(self) -> bool:
        """Adobe has no such object (404, Flow Service's 1101-404)."""
        return self.status == 404 or self.upstream_status == 404 or self._coded("1101-404")

    @property
    def unknown_sandbox(self) -> bool:
        """The organisation has no sandbox of the name sent: the Flow Service error catalogue's 2100-404, 2101-404 and
        2103-404 ("Sandbox not found"), 2106-404 for its default sandbox."""
        return self._coded("2100-404", "2101-404", "2103-404", "2106-404")

    @property
    def stale(self) -> bool:
        """The etag sent is not the object's now: someone changed it meanwhile (1404-412)."""
        return self._coded(STALE)

    @property
    def in_use(self) -> bool:
        """Flow Service keeps an object that others use: a base connection a dataflow reads (1418-400), a source or
        target connection of an active dataflow (1447-400)."""
        return self._coded("1418-400", "1447-400")

    @property
    def maybe_done(self) -> bool:
        """The request may have been acted on: no whole answer came back, or Adobe failed on its side (5xx)."""
        return self.code == UNANSWERED or (self.upstream_status or 0) >= 500


# Our codes for a call that got no whole answer: nothing reached Adobe, or it may have.
UNREACHED, UNANSWERED = "unreached", "unanswered"
# Flow Service's code for a stale etag ("Version not matching").
STALE = "1404-412"


# Said instead of Adobe's explanation when that explanation quotes a secret.
WITHHELD = "Adobe's explanation is not shown because it repeats a secret from this request."


def _json(response: Answer):
    try:
        return response.json()
    except ValueError:
        return None


def request_id_of(response: Answer, body=None) -> str | None:
    if isinstance(body, dict):
        report = body.get("report")
        if isinstance(report, dict) and report.get("request-id"):
            return str(report["request-id"])
    return response.headers.get("x-request-id")


def never(_text: str) -> bool:
    return False


def flow_service_error(response: Answer, doing: str, quotes_secret=never, service: str = "Flow Service") -> AdobeError:
    """Read a Flow Service (or another Platform API's: `service` names it) or gateway error answer into an AdobeError.

    When Adobe's answer holds a secret of the request (`quotes_secret`, however short the secret), none of
    its text is shown: editing the secret out would tell it (a password "p" turns "permission" into
    "{PASSWORD}ermission"). The message then gives the status, the code and our own advice only.
    """
    status = response.status_code
    body = _json(response)
    withheld = quotes_secret(response.text or "")
    request_id = request_id_of(response, body)
    if withheld and request_id and quotes_secret(request_id):
        request_id = None
    retry_after = response.headers.get("Retry-After")
    code = None
    detail = None
    if isinstance(body, dict) and "error_code" in body:
        # The API gateway answered, before Flow Service saw the request.
        code = str(body.get("error_code"))
        detail = str(body.get("message") or "")
    elif isinstance(body, dict) and {"title", "errorMessage", "type", "detail"} & body.keys():
        # Flow Service's shape (type ending in FLOW-<code>, title, report, errorMessage), or the platform's
        # BadRequestError shape (type, title, detail) from the troubleshooting guide.
        type_ = str(body.get("type") or "")
        if "FLOW-" in type_:
            code = type_.rsplit("/", 1)[-1]
        elif body.get("code"):
            code = str(body["code"])
        elif body.get("title") and " " not in str(body["title"]):
            code = str(body["title"])
        report = body["report"] if isinstance(body.get("report"), dict) else {}
        parts = [body.get("title"), report.get("detailed-message"), body.get("errorMessage"), body.get("detail")]
        seen = []
        for part in parts:
            if part and isinstance(part, (str, int, float)) and str(part) not in seen:
                seen.append(str(part))
        detail = " — ".join(seen)

    if status in (401, 403):
        advice = (
            "Adobe refused the wizard's credentials. An administrator should check AEP_CLIENT_ID, "
            "AEP_ORG_ID and the product profile of the OAuth Server-to-Server credential in the "
            "Adobe Developer Console."
        )
        ours = 502
    elif status == 429:
        wait = f" about {plural(int(retry_after), 'second')}" if str(retry_after or "").isdigit() else " a minute"
        advice = f"Adobe is limiting how fast requests arrive. Wait{wait} and submit again."
        ours = 429
    elif status == 404:
        advice = f"{service} has no such resource in this sandbox. Check the sandbox and the id."
        ours = 404
    elif 400 <= status < 500:
        advice = f"{service} rejected what was sent. Correct the fields below and submit again."
        ours = 400
    else:
        advice = f"{service} had a problem on its side. Wait a moment and try again."
        ours = 502
    if withheld and code and quotes_secret(code):
        code = None
    message = f"{doing} failed: {service} answered {status}"
    message += f" ({code})" if code else ""
    if withheld:
        message += ". " + WITHHELD + " "
    else:
        message += f": {sentence(detail)} " if detail else ". "
    message += advice
    return AdobeError(
        message,
        status=ours,
        code=code,
        request_id=request_id,
        retry_after=retry_after,
        upstream_status=status,
    )
