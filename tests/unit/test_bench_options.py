"""`make bench BENCH_ARGS=--quick` is a smoke run: it never writes over the committed results."""

from __future__ import annotations

from benchmarks.run import RESULTS, options
from benchmarks.workload import WORK_DIR


def test_a_quick_run_writes_beside_its_stores_not_over_the_committed_results() -> None:
    quick = options(["--quick"])
    assert quick.output == WORK_DIR / "results-quick.json" and quick.output != RESULTS
    assert quick.size <= 20_000 and quick.repeat == 1


def test_a_full_run_and_an_explicit_output_write_where_they_say() -> None:
    assert options([]).output == RESULTS
    assert str(options(["--quick", "--output", "/tmp/x.json"]).output) == "/tmp/x.json"


def test_the_follower_case_is_known_and_runs_on_its_own() -> None:
    assert options(["--quick", "--only", "follower"]).chosen == ["follower"]
