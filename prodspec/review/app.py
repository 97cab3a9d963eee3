"""`prodspec review`: a local web page where a person checks the machine's answers, least confident first, and
every correction is written at once to a labels file prodspec trains from.

The page (`static/`) is plain HTML and a little JavaScript that asks this server for JSON and sets every text it
shows as text, never as markup. The server serves the page, the queue, each row's drawing and candidates, and the
reviewer's actions; a photo is reached only through its row's number, so no request names a path.
"""

from __future__ import annotations

import getpass
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from prodspec.review.corrections import ACTIONS, Corrections, changed_shares
from prodspec.review.queue import PAGE, Filters, Overlays, ReviewQueue, typed_value

STATIC = Path(__file__).parent / "static"
MAX_BODY = 16_384  # bytes: an action is a few hundred
MAX_HISTORY = 200  # undo steps kept per tab


@dataclass
class Review:
    queue: ReviewQueue
    overlays: Overlays
    corrections: Corrections
    reviewer: str = field(default_factory=getpass.getuser)
    history: dict[str, list[tuple[str, dict | None]]] = field(default_factory=lambda: defaultdict(list))

    def record(self, row: int, action: str, value: str) -> dict:
        r = self.queue.rows.loc[row]
        return {"index": r["index"], "image_link": r["image_link"], "group_id": r["group_id"],
                "entity_name": r["entity_name"], "entity_value": value, "reviewer": self.reviewer,
                "reviewed_at": datetime.now(UTC).isoformat(timespec="seconds"), "action": action,
                "machine_answer": r["prediction"], "machine_confidence": f"{float(r['confidence']):.4f}"}


class BodyLimit:
    """Refuse a request body over MAX_BODY bytes (by its declared length, and as it streams in) with 413."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return await JSONResponse({"error": f"a request body is at most {MAX_BODY} bytes"}, 413)(
                scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await JSONResponse({"error": f"a request body is at most {MAX_BODY} bytes"}, 413)(scope, receive, send)


class _TooLarge(Exception):
    pass


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def make_app(review: Review) -> Starlette:
    queue = review.queue

    def row_of(request: Request) -> int | None:
        text = request.path_params["row"]
        return int(text) if text.isdigit() and int(text) < len(queue.rows) else None

    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "page.html", media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ("review.js", "review.css"):
            return _error("no such file", 404)
        return FileResponse(STATIC / name)

    async def listing(request: Request) -> Response:
        q = request.query_params
        try:
            filters = Filters(q.get("attribute", ""), q.get("source", ""), float(q.get("min", 0)),
                              float(q.get("max", 1)), q.get("reviewed", "all"))
            offset, limit = int(q.get("offset", 0)), min(int(q.get("limit", PAGE)), 500)
        except ValueError:
            return _error("min and max are numbers, offset and limit whole numbers", 400)
        if offset < 0 or limit < 1 or filters.reviewed not in ("all", "yes", "no"):
            return _error("offset from 0, limit from 1, reviewed one of all, yes, no", 400)
        done = review.corrections.read()
        return JSONResponse(queue.page(filters, set(done), offset, limit)
                            | {"attributes": sorted(queue.rows["entity_name"].unique()),
                               "sources": sorted(s for s in queue.rows["source"].unique() if s)})

    async def details(request: Request) -> Response:
        row = row_of(request)
        if row is None:
            return _error("no such row", 404)
        info = review.overlays.details(row)
        label = review.corrections.read().get(info["index"])
        return JSONResponse(info | {"label": label})

    async def picture(request: Request) -> Response:
        row = row_of(request)
        if row is None:
            return _error("no such row", 404)
        png, _ = review.overlays.files(row)
        if not png.exists() and not review.overlays.details(row)["picture"]:
            return _error("no drawing of this row: its photo is not in the images folder", 404)
        return FileResponse(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    async def act(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error("the body is not JSON", 400)
        if not isinstance(body, dict) or not isinstance(body.get("tab"), str) or not isinstance(body.get("row"), int):
            return _error("an action is {tab, row, action, value}", 400)
        row, action, value = body["row"], body.get("action"), body.get("value", "")
        if not 0 <= row < len(queue.rows) or action not in ACTIONS or not isinstance(value, str):
            return _error(f"row a row number, action one of {', '.join(ACTIONS)}, value a text", 400)
        entity = queue.rows.at[row, "entity_name"]
        if action == "accept":
            value = queue.rows.at[row, "prediction"]
        elif action == "empty":
            value = ""
        elif action == "pick":  # a candidate of the row's drawing, by its rank
            chosen = [c for c in review.overlays.details(row)["candidates"] if c["rank"] == body.get("rank")]
            if not chosen or not chosen[0]["answer"]:
                return JSONResponse({"ok": False, "reason": f"no candidate of a unit of {entity} has that number"},
                                    422)
            value = chosen[0]["answer"]
        else:  # typed: checked as `prodspec check` checks a value, and its unit against the attribute's
            try:
                value = typed_value(value, entity)
            except ValueError as refused:
                return JSONResponse({"ok": False, "reason": str(refused)}, 422)
        record = review.record(row, action, value)
        before = review.corrections.put(record)
        steps = review.history[body["tab"][:64]]
        steps.append((record["index"], before))
        del steps[:-MAX_HISTORY]
        return JSONResponse({"ok": True, "record": record})

    async def undo(request: Request) -> Response:
        try:
            tab = json.loads(await request.body()).get("tab")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            return _error("the body is {tab}", 400)
        steps = review.history.get(str(tab)[:64]) or []
        if not steps:
            return JSONResponse({"ok": False, "reason": "nothing to undo"}, 409)
        index, before = steps.pop()
        if before is None:
            review.corrections.remove(index)
        else:
            review.corrections.put(before)
        return JSONResponse({"ok": True, "row": queue.position[index]})

    async def summary(_: Request) -> Response:
        done = review.corrections.read()
        frame = pd.DataFrame(list(done.values()))
        return JSONResponse({"changed": changed_shares(frame).to_dict("records")})

    routes = [Route("/", page), Route("/static/{name}", static), Route("/api/queue", listing),
              Route("/api/row/{row}", details), Route("/api/row/{row}/picture", picture),
              Route("/api/action", act, methods=["POST"]), Route("/api/undo", undo, methods=["POST"]),
              Route("/api/summary", summary)]
    return Starlette(routes=routes, middleware=[Middleware(BodyLimit)])
