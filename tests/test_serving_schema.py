"""The service fuzzed against its own OpenAPI schema: no input makes it answer 500, and every
response it gives fits the schema it publishes.

Schemathesis generates requests for every operation from the schema (valid and invalid ones) and
sends them with an admin key, which reaches every route, to a private copy of the served world (the
fuzzer writes: reviews, stage events, uploads). Examples per operation are bounded so the run stays
within a couple of minutes.
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from talktrack.serving.app import create_app
from talktrack.serving.keys import create_key
from tests.serving_support import LiveServer, bearer

EXAMPLES_PER_OPERATION = 12
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
