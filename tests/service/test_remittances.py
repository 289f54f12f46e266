"""POST /remittances and GET /denials: `careledger import 835` and `denials --json` over HTTP."""

from __future__ import annotations

from domain.demo import demo_episode_ids
from domain.episode.roles import Role
from projections.interop.denials import demo_remittance
from projections.store.root import open_store
from tests.service.conftest import Server

EPISODES = [str(i) for i in demo_episode_ids().values()]


def test_a_biller_posts_the_demos_835_once_and_reads_the_denials_a_therapist_may_not_post_it(
    server: Server,
) -> None:
    with open_store(server.db) as store:
        text = demo_remittance(store.app)
    claims = text.count("~\nCLP*")
    headers = {"content-type": "application/edi-x12"}
    for clinician in (Role.THERAPIST, Role.ASSISTANT):
        refused = server.client(clinician).post("/remittances", content=text.encode(), headers=headers)
        assert refused.status_code == 403, (clinician, refused.text)
    biller = server.client(Role.BILLER)
    first = biller.post("/remittances", content=text.encode(), headers=headers)
    assert first.status_code == 200, first.text
    assert (first.json()["applied"], first.json()["refused"]) == (claims, [])
    service = server.client(Role.SERVICE)
    again = service.post("/remittances", content=text.encode(), headers=headers).json()
    assert (again["applied"], again["already_applied"]) == (0, claims)
    report = biller.get("/denials", params={"payer": "medicare"})
    assert report.status_code == 200, report.text
    totals = report.json()["totals"]
    assert totals["lines"] == text.count("~\nSVC*") and totals["denied_lines"] > 0


def test_a_broken_835_is_refused_naming_the_segment_and_nothing_is_stored(server: Server) -> None:
    with open_store(server.db) as store:
        text = demo_remittance(store.app).replace("CAS*CO*", "CAS*ZZ*", 1)
    service = server.client(Role.SERVICE)
    versions = {i: service.get(f"/episodes/{i}").json()["version"] for i in EPISODES}
    answer = service.post("/remittances", content=text.encode(), headers={"content-type": "text/plain"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "CAS*ZZ" in answer.text and "pyx12" in answer.text
    assert {i: service.get(f"/episodes/{i}").json()["version"] for i in EPISODES} == versions
