"""The service fuzzed against its own OpenAPI schema: no input makes it answer 500, and every
response it gives fits the schema it publishes.

Schemathesis generates requests for every operation from the schema (valid and invalid ones) and
sends them with an admin key, which reaches every route, to a private copy of the served world (the
fuzzer writes: reviews, stage events, uploads). Examples per operation are bounded so the run stays
within a couple of minutes.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from talktrack.serving.app import create_app
from talktrack.serving.keys import create_key
from tests.serving_support import LiveServer, bearer

EXAMPLES_PER_OPERATION = 12
# Path segments that once reached int() or the catalog: digits of other scripts ("²".isdigit() is
# True, int("²") fails), a number past 64 bits, and odd Unicode (bidi override, emoji, NUL, an
# encoded slash, a dot segment, an overlong id).
ODD_PATH_VALUES = ("\u00b2", "\u0663", "\uff11", "99999999999999999999999", "-1", "\u202eabc", "\U0001f600",
                   "caf\u00e9", "\x00", "a/b", "..", " ", "a" * 1000)


def routes_with_path_parameters():
    """(route, its path parameters) of every route the app mounts, pages included."""
    from fastapi.routing import APIRoute

    from talktrack.serving import web
    from talktrack.serving.routes import ROUTERS

    return [(route, route.dependant.path_params) for router in (*ROUTERS, web.router) for route in router.routes
            if isinstance(route, APIRoute) and route.dependant.path_params]
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory, world_workspace):
    settings, workspace, _ = world_workspace
    root = tmp_path_factory.mktemp("fuzz") / "ws"
    shutil.copytree(workspace.root, root)
    settings = settings.model_copy(update={"workspace": root})
    app = create_app(settings)
    with LiveServer(app) as live:
        catalog = app.state.service.catalog
        live.admin_key = create_key(catalog, "admin", name="fuzzer")[0]
        yield live


def test_every_path_parameter_has_an_ascii_pattern():
    """A new route cannot take a free-form id from the URL: each path parameter is anchored to ASCII."""
    found = routes_with_path_parameters()
    assert len(found) >= 20
    for route, parameters in found:
        for parameter in parameters:
            patterns = [m.pattern for m in parameter.field_info.metadata if getattr(m, "pattern", None)]
            assert patterns, f"{route.path}: {parameter.name} has no pattern"
            assert patterns[0].startswith("^") and patterns[0].endswith("$") and patterns[0].isascii()
            assert not any(re.match(patterns[0], odd) for odd in ("\u00b2", "\u0663", "\uff11", "\u202e1", "\u00e9")), route.path


def test_odd_path_parameters_are_4xx_on_every_route(fuzzed_server):
    """Every route with a path parameter, every odd value: never a 500; from the API a 4xx (422, or 404
    for a well-formed id that names nothing). A page may answer 200 for a well-formed id (its data is
    the API's to refuse)."""
    key = create_key(fuzzed_server.app.state.service.catalog, "admin", name="path-fuzzer")[0]
    answers = {}
    with httpx.Client(base_url=fuzzed_server.url, timeout=60, headers=bearer(key)) as client:
        for route, parameters in routes_with_path_parameters():
            for value in ODD_PATH_VALUES:
                path = route.path
                for parameter in parameters:
                    path = path.replace(f"{{{parameter.name}}}", quote(value, safe=""))
                for method in sorted(route.methods - {"HEAD"}):
                    answers[f"{method} {path}"] = client.request(method, path, json={} if method == "POST" else None)
    assert len(answers) >= 20 * len(ODD_PATH_VALUES)
    wrong = {request: (r.status_code, r.text[:200]) for request, r in answers.items()
             if r.status_code >= 500 or (" /v1/" in request and not 400 <= r.status_code < 500)}
    assert wrong == {}


def test_no_input_gives_a_server_error_or_breaks_the_schema(fuzzed_server):
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    headers = bearer(fuzzed_server.admin_key)
    failures, operations, requests = {}, 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case):
            requests.append(case.operation.label)
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance], timeout=60
            )

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - every operation is fuzzed; failures are listed together
            failures[operation.label] = str(exc)[:2000]
    assert operations >= 10, "the schema lists the service's operations"
    assert len(set(requests)) == operations and len(requests) >= 3 * operations
    assert failures == {}
