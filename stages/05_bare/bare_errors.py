"""Error pages for bare: HTML for browsers, JSON for programs, tracebacks only in debug.

    app.add_middleware(ErrorPages, debug=False)

bare answers its errors as JSON (``{"error": "not found"}``), which is right
for an API client and unfriendly in a browser. This middleware looks at each
error response (status 400 and up) and at what the client asked for in
``Accept`` (RFC 9110 §12.5.1, proactive negotiation, §12.1):

- a client that prefers ``text/html`` (a browser) gets an HTML page with the
  status, its reason phrase and the message, all HTML-escaped;
- any other client gets JSON, as before.

A 500 carries the traceback only when ``debug`` is true: as a ``<pre>`` on the
page, or the ``traceback`` member of the JSON. With ``debug`` false a
traceback is removed even if the app put one in (``Bare(debug=True)`` behind
a production ``ErrorPages``), so it cannot leak. An exception that escapes
the app before it answered is logged and becomes the same 500.
"""

from __future__ import annotations

import html
import http
import json
import logging
import re
import traceback
from typing import Any

from bare import OWS, ASGIApp, Headers, Message, Receive, Scope, Send

__all__ = ["ErrorPages", "prefers_html", "quality"]

logger = logging.getLogger("bare.errors")


# ── Negotiation ───────────────────────────────────────────────────────────────

#: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2).
#: float() is looser: it takes "\xa01", "1_0", "nan" and "inf".
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def quality(accept: str, media_type: str) -> float:
    """Return the q-value ``accept`` gives ``media_type`` (RFC 9110 §12.5.1), 0 if none.

    ``quality("text/html,*/*;q=0.8", "application/json")`` -> 0.8. The most
    specific range that matches wins: ``type/subtype`` over ``type/*`` over
    ``*/*``; a range without ``q`` has 1; a malformed q counts as 0.
    Ranges and parameters are trimmed of OWS only (SP, HTAB; RFC 9110
    §5.6.3): "\xa0text/html" matches nothing.
    """
    # EXERCISE 5.11: Read a q-value from Accept
    wanted_type = media_type.lower().partition("/")[0]
    best_specificity, best_q = -1, 0.0
    for media_range in accept.split(","):
        name, *parameters = media_range.split(";")
        name = name.strip(OWS).lower()
        if name == media_type.lower():
            specificity = 2
        elif name == f"{wanted_type}/*":
            specificity = 1
        elif name == "*/*":
            specificity = 0
        else:
            continue
        q = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip(OWS).lower() == "q":
                value = value.strip(OWS)
                q = float(value) if _QVALUE.fullmatch(value) else 0.0
        if specificity > best_specificity:
            best_specificity, best_q = specificity, q
    return best_q
    # END EXERCISE


def prefers_html(accept: str) -> bool:
    """Return True if ``accept`` rates text/html above application/json (a tie is JSON)."""
    return quality(accept, "text/html") > quality(accept, "application/json")


# ── Pages ─────────────────────────────────────────────────────────────────────

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{status} {reason}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:4rem auto;padding:0 1rem}}
pre{{background:#f4f4f4;padding:1rem;overflow:auto;font-size:13px}}</style></head>
<body>
<h1>{status} {reason}</h1>
<p class="message">{message}</p>
{details}<p><a href="/">Back to the home page</a></p>
</body>
</html>
"""


def reason_phrase(status: int) -> str:
    """Return the reason phrase of ``status`` ("Not Found"), or "Error" for an unknown one."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def html_page(status: int, message: str, trace: str | None = None) -> bytes:
    """Return the error page for ``status``; every value in it is HTML-escaped."""
    details = f"<h2>Traceback</h2>\n<pre>{html.escape(trace)}</pre>\n" if trace else ""
    return PAGE.format(
        status=status,
        reason=html.escape(reason_phrase(status)),
        message=html.escape(message),
        details=details,
    ).encode("utf-8")


# ── The middleware ────────────────────────────────────────────────────────────

_REWRITTEN_TYPES = (b"application/json", b"text/plain")


class ErrorPages:
    """Turn error responses into HTML pages for browsers; keep tracebacks to debug mode."""

    def __init__(self, app: ASGIApp, *, debug: bool = False) -> None:
        self.app = app
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = Headers(scope.get("headers", ())).get("accept", "")
        html_wanted = prefers_html(accept)
        started = False
        held: dict[str, Any] | None = None  # an error's start event, while its body is read
        chunks: list[bytes] = []

        async def send_or_rewrite(message: Message) -> None:
            nonlocal started, held
            if message["type"] == "http.response.start":
                started = True
                if message["status"] >= 400 and self._rewritable(message):
                    held = dict(message)
                    return
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send_page(
                        send, held, b"".join(chunks), html_wanted, head=scope["method"] == "HEAD"
                    )
                    held = None
                return
            await send(message)

        try:
            await self.app(scope, receive, send_or_rewrite)
        except Exception as error:
            if started:
                raise  # too late for a page: the server closes the connection
            logger.exception("%s %s raised", scope.get("method"), scope.get("path"))
            trace = "".join(traceback.format_exception(error))
            await self._send_error(
                send,
                500,
                "internal server error",
                trace,
                html_wanted,
                head=scope["method"] == "HEAD",
            )

    @staticmethod
    def _rewritable(message: Message) -> bool:
        for name, value in message.get("headers", ()):
            if name.lower() == b"content-type":
                return value.split(b";")[0].strip(OWS.encode()).lower() in _REWRITTEN_TYPES
        return False

    async def _send_page(
        self, send: Send, start: dict[str, Any], body: bytes, html_wanted: bool, *, head: bool
    ) -> None:
        """Send a held error response again, as a page or as cleaned-up JSON."""
        message, trace = body.decode("utf-8", "replace"), None
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        if isinstance(data, dict):
            message = str(data.get("error", message))
            trace = data.get("traceback")
        if not html_wanted and isinstance(data, dict) and (self.debug or "traceback" not in data):
            # Already the JSON we would send: pass it on untouched (keeping its headers).
            await send(start)
            await send({"type": "http.response.body", "body": b"" if head else body})
            return
        extra = [
            (name, value)
            for name, value in start.get("headers", ())
            if name.lower() not in (b"content-type", b"content-length")
        ]
        await self._send_error(
            send, start["status"], message, trace, html_wanted, head=head, headers=extra, data=data
        )

    async def _send_error(
        self,
        send: Send,
        status: int,
        message: str,
        trace: str | None,
        html_wanted: bool,
        *,
        head: bool,
        headers: list[tuple[bytes, bytes]] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        shown = trace if self.debug else None
        if html_wanted:
            body, content_type = html_page(status, message, shown), b"text/html; charset=utf-8"
        else:
            payload = {
                key: value
                for key, value in (data or {"error": message}).items()
                if key != "traceback"
            }
            if shown:
                payload["traceback"] = shown
            body, content_type = json.dumps(payload).encode("utf-8"), b"application/json"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    *(headers or []),
                    (b"content-type", content_type),
                    (b"content-length", b"%d" % len(body)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if head else body})
