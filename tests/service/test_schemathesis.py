"""Schemathesis (the OpenAPI fuzzer) over the live server's /openapi.json: every operation, its
stateful links, positive and negative data; 0 server errors and 0 responses outside the schema.

The same run by hand, against `careledger serve --demo --db demo.db`:

    st --config-file tests/service/schemathesis.toml run http://127.0.0.1:8080/openapi.json \\
       -H "Authorization: Bearer $TOKEN" --checks not_a_server_error,response_schema_conformance,\\
       status_code_conformance,content_type_conformance -n 10 --max-time 45
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.episode.roles import Role
from tests.conftest import BACKENDS, fresh_store_url
from tests.service.conftest import Server, build_demo, start_server

CONFIG = Path(__file__).with_name("schemathesis.toml")
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("fuzzed")
    with fresh_store_url(request.param, directory) as db:
        build_demo(db)
        running = start_server(db, directory)
        try:
            yield running
        finally:
            running.stop()


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_response_outside_the_schema(fuzzed: Server) -> None:
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(CONFIG),
            "run",
            f"{fuzzed.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {fuzzed.tokens[Role.ADMIN]}",
            "--checks",
            CHECKS,
            "--max-examples",
            "8",
            "--max-time",
            "40",
            "--seed",
            "17",
            # One worker: parallel workers hit a CPython 3.11 bug in ast.parse from threads
            # ("AST constructor recursion depth mismatch") inside hypothesis, not in careledger.
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=fuzzed.log.parent,  # schemathesis keeps a cache of crashes in its working directory
        timeout=170,
        check=False,
    )
    report = done.stdout[-6000:]
    assert done.returncode == 0, report
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected and tested and int(tested.group(1)) == int(selected.group(2)) >= 26, report
    assert "Stateful" in report and "unique failure" not in report, report
    server_log = fuzzed.log.read_text()
    assert '"status": 500' not in server_log, [
        line for line in server_log.splitlines() if '"status": 500' in line
    ]
