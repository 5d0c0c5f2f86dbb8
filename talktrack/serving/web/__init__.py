"""The web workbench: a few plain HTML pages over the same JSON API, in English and Chinese.

The pages hold no data of their own. Each one is a template plus our own JavaScript that calls
``/v1`` with the key the user signed in with (kept in ``sessionStorage``), so a page shows
exactly what the API lets that key see, and a refused route shows the API's 403 message. No
third-party JS or CSS: charts are inline SVG drawn by ``static/charts.js``.

Mount it on an app with :func:`install_web`::

    app = create_app(settings)
    install_web(app)      # /, /app/tracks, /app/calls/{id}, /app/deals/{id}, /app/drill, /app/dashboard,
                          # /app/management, /web/static/*
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from talktrack.core.config import Settings
from talktrack.pipelines.drills import load_drill_book
from talktrack.serving.routes.params import ID_PATTERN

HERE = Path(__file__).parent
STATIC_URL = "/web/static"
templates = Jinja2Templates(directory=HERE / "templates")
# Pages are not API: they stay out of the OpenAPI schema (and so out of schema fuzzing).
router = APIRouter(include_in_schema=False)

# page name -> its template
PAGES = {
    "signin": "signin.html",
    "tracks": "tracks.html",
    "call": "call.html",
    "deal": "deal.html",
    "drill": "drill.html",
    "dashboard": "dashboard.html",
    "management": "management.html",
}
# pages whose URL carries nothing (all they show comes from the API): page name -> URL
PLAIN_PAGES = {"signin": "/", "tracks": "/app/tracks", "drill": "/app/drill", "dashboard": "/app/dashboard",
               "management": "/app/management"}


def install_web(app: FastAPI) -> None:
    """Mount the page routes and their static files on ``app`` (call once, after ``create_app``)."""
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="web-static")


def taxonomy(settings: Settings) -> dict:
    """The names a page shows for keys in API answers (objection types, moves, stages, ...), en and zh.

    Rendered into each page, so labels need no extra request and follow the deployment's config.
    """
    named = ("objection_types", "moves", "capability_dimensions", "stages", "progress_levels")
    names = {part: {item.key: {"en": item.name_en, "zh": item.name_zh} for item in getattr(settings, part)}
             for part in named}
    names["key_questions"] = {key: {"en": q.name_en, "zh": q.name_zh} for key, q in settings.key_questions.items()}
    names["stage_order"] = [stage.key for stage in settings.stages]
    return names


def drill_scenarios(service) -> dict:
    """What a drill may be started with (the personas of the drill book, the languages of
    ``settings.drills``), so the drill page offers exactly the values ``POST /v1/drills`` accepts."""
    drills = service.settings.drills
    personas = {key: {"en": p.name_en, "zh": p.name_zh} for key, p in load_drill_book(drills).personas.items()}
    return {"personas": personas, "languages": list(drills.languages)}


def render(request: Request, page: str, **context) -> HTMLResponse:
    service = request.app.state.service
    names = taxonomy(service.settings)
    if page == "drill":
        names["drills"] = drill_scenarios(service)
    names = json.dumps(names, ensure_ascii=False).replace("</", "<\\/")  # stays inside <script>
    context |= {"page": page, "static": STATIC_URL, "taxonomy_json": names}
    return templates.TemplateResponse(request, PAGES[page], context)


def _page(page: str):
    """The route of a page that takes nothing from its URL (its data comes from the API)."""
    def show(request: Request) -> HTMLResponse:
        return render(request, page)

    show.__name__ = f"{page}_page"
    return show


for _name, _url in PLAIN_PAGES.items():
    router.add_api_route(_url, _page(_name), methods=["GET"], response_class=HTMLResponse)


@router.get("/app/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, call_id: str = PathParam(min_length=1, max_length=64, pattern=ID_PATTERN)) -> HTMLResponse:
    return render(request, "call", call_id=call_id)


@router.get("/app/deals/{deal_id}", response_class=HTMLResponse)
def deal_page(request: Request, deal_id: str = PathParam(min_length=1, max_length=64, pattern=ID_PATTERN)) -> HTMLResponse:
    return render(request, "deal", deal_id=deal_id)
