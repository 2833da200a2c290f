"""The dashboard's web application (FastAPI), behind :class:`~.guard.Guard`.

The page (``/``, its script and stylesheet from ``static/``: nothing from elsewhere) talks to the
API: the targets of the config (``GET /api/targets``) and their editing (``/api/config/…``); the
key variables it names (``GET /api/keys``; ``PUT /api/keys/{name}`` with ``{"value": …}`` sets or
replaces one, ``DELETE`` removes it: a value is never sent back, only ``set`` with at most its
last four characters); runs started here (``/api/jobs``: start, list, follow, cancel); and the
runs in ``results/`` (``GET /api/runs``), each run's report (``/runs/<stamp>``), a comparison of
two (``/compare?a=<stamp>&b=<stamp>``) and the history of all (``/history``), the report's own
pages with their own strict policy. The page puts every value in as text, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import ConfigError
from ..schema import Key
from .env_file import EnvFileError
from .guard import TOKEN_COOKIE, Guard
from .project import Project

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .run_queue import DashboardRun

__all__ = ["STATIC", "dashboard_app"]

#: The page's own files (nothing else is served from the package), by their media type.
STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


def _static(name: str) -> str:
    from importlib import resources

    folder = resources.files(__package__).joinpath("static")
    return folder.joinpath(name).read_text(encoding="utf-8")


def dashboard_app(project: Project, token: str | None = None) -> Any:
    """The ASGI application for ``project`` (``token``: every request must carry it)."""
    from fastapi import FastAPI, HTTPException, Query
    from fastapi.responses import HTMLResponse, RedirectResponse, Response

    api = FastAPI(title="pytest-llmbench dashboard", docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip

    @api.get("/api/targets")
    def targets() -> dict[str, Any]:
        return project.targets()

    _key_routes(api, project)
    _run_routes(api, project)
    _job_routes(api, project)
    _config_routes(api, project)

    @api.get("/api/project")
    def about() -> dict[str, Any]:
        return {"config": str(project.config_path), "folder": str(project.folder)}

    @api.get("/", response_class=HTMLResponse)
    def index(given: str | None = Query(None, alias="token")) -> Response:
        if token is not None and given:
            # the guard checked it: keep it in a cookie, and the address bar clean
            answer = RedirectResponse("/", status_code=303)
            answer.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
            return answer
        return HTMLResponse(_static("index.html"))

    @api.get("/static/{name}")
    def static(name: str) -> Response:
        if name == "report.css":  # the report's own chart rules, for the charts it draws
            from .live_chart import chart_css

            return Response(chart_css(), media_type="text/css; charset=utf-8")
        kind = STATIC.get(name)
        if kind is None:
            raise HTTPException(status_code=404, detail=f"no {name}")
        return Response(_static(name), media_type=kind)

    return Guard(api, token)


def _key_routes(api: FastAPI, project: Project) -> None:
    """The keys the config names: list, set or replace, delete."""
    from fastapi import Body, HTTPException

    @api.get("/api/keys")
    def keys() -> list[dict[str, Any]]:
        return project.key_states()

    def _key(name: str) -> dict[str, Any]:
        return next(k for k in project.key_states() if k["name"] == name)

    @api.put("/api/keys/{name}")
    def set_key(name: str, value: str = Body(..., embed=True)) -> dict[str, Any]:
        try:
            project.env.set(name, value, project.key_names())
        except EnvFileError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return _key(name)

    @api.delete("/api/keys/{name}")
    def delete_key(name: str) -> dict[str, Any]:
        try:
            project.env.delete(name, project.key_names())
        except EnvFileError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return _key(name)


def _run_routes(api: FastAPI, project: Project) -> None:
    """The runs in ``results/``, a run's report, a comparison and the history."""
    from fastapi import HTTPException
    from fastapi.responses import HTMLResponse, Response

    @api.get("/api/runs")
    def runs() -> list[dict[str, Any]]:
        from .history import run_summaries

        return run_summaries(project.results_dir)

    def _report(stamps: list[str]) -> Response:
        from ..outputs.report import ReportInputError, render_html, report_csp
        from .history import RunNotFound, load_run

        try:
            documents = [load_run(project.results_dir, stamp) for stamp in stamps]
        except RunNotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except ReportInputError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        policy = f"{report_csp()}; frame-ancestors 'self'"
        return HTMLResponse(render_html(documents), headers={"Content-Security-Policy": policy})

    @api.get("/runs/{stamp}", response_class=HTMLResponse)
    def run_report(stamp: str) -> Response:
        return _report([stamp])

    @api.get("/compare", response_class=HTMLResponse)
    def compare(a: str, b: str) -> Response:
        return _report([a, b])

    @api.get("/history", response_class=HTMLResponse)
    def history() -> Response:
        from .history import run_summaries

        stamps = [r["stamp"] for r in run_summaries(project.results_dir) if not r["error"]]
        if not stamps:
            raise HTTPException(status_code=404, detail=f"no runs in {project.results_dir}")
        return _report(stamps[::-1])


def _job_routes(api: FastAPI, project: Project) -> None:
    """Runs the dashboard starts: start one (queued behind the running one), list them, follow
    one's events (polled, or as server-sent events), cancel one."""
    from fastapi import HTTPException
    from fastapi.responses import StreamingResponse

    from .run_plan import PlanError, RunPlan
    from .run_queue import RunQueue

    queue = RunQueue(project)

    def _job(number: int) -> DashboardRun:
        run = queue.get(number)
        if run is None:
            raise HTTPException(status_code=404, detail=f"no run {number}")
        return run

    @api.post("/api/jobs")
    def start(request: dict[str, Any]) -> dict[str, Any]:
        try:
            plan = RunPlan.from_request(request, project)
        except PlanError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        except ConfigError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return queue.submit(plan).describe()

    @api.get("/api/jobs")
    def jobs() -> list[dict[str, Any]]:
        return [run.describe() for run in queue.runs]

    @api.get("/api/jobs/{number}/events")
    def events(number: int, since: int = 0) -> dict[str, Any]:
        run = _job(number)
        return {**run.describe(), "events": run.read_events(since)}

    @api.post("/api/jobs/{number}/cancel")
    def cancel(number: int) -> dict[str, Any]:
        _job(number)
        run = queue.cancel(number)
        assert run is not None
        return run.describe()

    @api.get("/api/jobs/{number}/chart")
    def chart(number: int, metric: str = Key.TTFT_MS) -> dict[str, Any]:
        from .live_chart import LIVE_METRICS, live_chart

        if metric not in LIVE_METRICS:
            raise HTTPException(status_code=422, detail=f"metric: one of {sorted(LIVE_METRICS)}")
        return {"svg": live_chart(_job(number).read_events(), metric)}

    @api.get("/api/jobs/{number}/stream")
    def stream(number: int) -> StreamingResponse:
        return StreamingResponse(_follow(_job(number)), media_type="text/event-stream")


async def _follow(run: DashboardRun) -> Any:
    """A run's events as server-sent events, as they come, then its state when it has ended."""
    import asyncio
    import json

    seen = 0
    while True:
        done = run.state in ("finished", "cancelled")
        for event in run.read_events(seen):
            seen += 1
            yield f"data: {json.dumps(event)}\n\n"
        if done:
            yield f"event: state\ndata: {json.dumps(run.describe())}\n\n"
            return
        await asyncio.sleep(0.25)


def _config_routes(api: FastAPI, project: Project) -> None:
    """Providers and models added, edited, removed: each change checked by the plugin's loader
    (its message on a refusal), the file written atomically with its comments kept."""
    from collections.abc import Callable

    from fastapi import HTTPException

    from .config_edit import ConfigEditError, ConfigEditor

    editor = ConfigEditor(project.config_path)

    def _apply(change: Callable[[], None]) -> dict[str, Any]:
        try:
            change()
        except ConfigEditError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return project.targets()

    @api.post("/api/config/providers")
    def add_provider(body: dict[str, Any]) -> dict[str, Any]:
        name, fields = str(body.get("name") or ""), dict(body.get("fields") or {})
        return _apply(lambda: editor.add_provider(name, fields))

    @api.put("/api/config/providers/{name}")
    def edit_provider(name: str, fields: dict[str, Any]) -> dict[str, Any]:
        return _apply(lambda: editor.edit_provider(name, fields))

    @api.delete("/api/config/providers/{name}")
    def remove_provider(name: str) -> dict[str, Any]:
        return _apply(lambda: editor.remove_provider(name))

    @api.post("/api/config/providers/{name}/models")
    def add_model(name: str, fields: dict[str, Any]) -> dict[str, Any]:
        return _apply(lambda: editor.add_model(name, fields))

    @api.put("/api/config/providers/{name}/models/{ident:path}")
    def edit_model(name: str, ident: str, fields: dict[str, Any]) -> dict[str, Any]:
        return _apply(lambda: editor.edit_model(name, ident, fields))

    @api.delete("/api/config/providers/{name}/models/{ident:path}")
    def remove_model(name: str, ident: str) -> dict[str, Any]:
        return _apply(lambda: editor.remove_model(name, ident))
