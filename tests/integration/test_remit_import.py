"""`import_835` in process: the two-process path a large file takes gives the same answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import InvalidInput
from projections.interop.denials import demo_remittance
from projections.interop.remit import import_835
from projections.store.root import open_store
from tests.e2e.conftest import careledger


@pytest.fixture
def demo_store(db_url: str) -> str:
    assert careledger("demo", "--db", db_url, "--quiet").returncode == 0
    return db_url


def test_pyx12_in_a_second_process_refuses_a_broken_file_and_passes_a_good_one(demo_store: str) -> None:
    with open_store(demo_store) as store:
        text = demo_remittance(store.app)
        before = store.app.recorder.max_notification_id()
        with pytest.raises(InvalidInput, match=r"CAS\*ZZ.*pyx12"):
            import_835(store.app, text.replace("CAS*CO*", "CAS*ZZ*", 1), "bad.835", "b", parallel_from=0)
        unbalanced = text.replace(
            "CLP*94ecc961-20260302*1*360.00*144.00", "CLP*94ecc961-20260302*1*360.00*145.00"
        )
        with pytest.raises(InvalidInput, match="nothing was imported"):
            import_835(store.app, unbalanced, "unbalanced.835", "b", parallel_from=0)
        assert store.app.recorder.max_notification_id() == before
        first = import_835(store.app, text, "demo.835", "b", parallel_from=0)
        claims = text.count("~\nCLP*")
        assert (first.applied, first.refused) == (claims, [])
        again = import_835(store.app, text, "renamed.835", "b")
        assert (again.applied, again.already_applied) == (0, claims)


def test_the_sequential_and_parallel_paths_match_alike(demo_store: str, tmp_path: Path) -> None:
    with open_store(demo_store) as store:
        text = demo_remittance(store.app).replace("CLP*94ecc961-", "CLP*00000000-")
        text = text.replace("NM1*QC*1*PT-1001*", "NM1*QC*1*PT-9999*")
        one = import_835(store.app, text, "x.835", "b", parallel_from=0)
        two = import_835(store.app, text, "x.835", "b", parallel_from=10**9)
    assert [r.as_dict() for r in one.refused] == [r.as_dict() for r in two.refused]
    assert one.refused and one.applied > 0 and two.applied == 0
