"""Tokens and the access log live in the store: on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.episode.roles import Role
from domain.errors import EpisodeNotFound, InvalidInput
from projections.store.access import Actor
from projections.store.root import Store, open_store
from projections.views.queries import ReadModels
from tests import builders


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.close()


def test_a_token_is_stored_as_a_digest_only_and_names_its_holder(store: Store) -> None:
    token = store.tokens.create("emr-bridge", "service")
    assert token.startswith("clt_") and len(token) > 40
    rows = store.tokens.select(f"SELECT * FROM {store.tokens.table}", (), "read")
    assert all(token not in str(value) for row in rows for value in row.values())
    found = store.tokens.authenticate(token)
    assert found is not None and (found.name, found.role) == ("emr-bridge", Role.SERVICE)
    assert store.tokens.authenticate(token + "x") is None
    assert store.tokens.authenticate("not a token") is None


def test_a_revoked_token_is_refused_and_stays_listed(store: Store) -> None:
    token = store.tokens.create("pt-1", "therapist")
    store.tokens.revoke("pt-1")
    assert store.tokens.authenticate(token) is None
    (listed,) = store.tokens.list()
    assert listed.name == "pt-1" and listed.revoked_at is not None
    with pytest.raises(InvalidInput, match="name: no active token named 'pt-1'"):
        store.tokens.revoke("pt-1")


@pytest.mark.parametrize(
    ("name", "role", "field"),
    [("", "admin", "name"), ("has space", "admin", "name"), ("ok", "superuser", "role")],
)
def test_a_bad_token_request_names_its_field_and_stores_nothing(
    store: Store, name: str, role: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.tokens.create(name, role)
    assert refused.value.field == field
    assert store.tokens.list() == []


def test_a_second_token_of_the_same_name_is_refused(store: Store) -> None:
    store.tokens.create("pt-1", "therapist")
    with pytest.raises(InvalidInput, match="name: a token named 'pt-1' exists"):
        store.tokens.create("pt-1", "admin")


def test_each_read_through_the_python_api_leaves_one_row_and_a_write_none(store: Store) -> None:
    opened = builders.open_episode()
    episode_id = opened.episode_id
    assert episode_id is not None
    store.app.handle(opened)
    store.app.handle(builders.visit(episode_id))
    assert store.access.entries() == []  # writes leave no row
    store.actor = Actor(user="billing-sync", role="local", origin="python")
    store.episode(episode_id)
    store.history(episode_id)
    models = ReadModels(store)
    try:
        models.refresh()
        models.timeline(episode_id)
        models.episodes(status="active", limit=5)
    finally:
        models.close()
    rows = store.access.entries()
    assert [(r["action"], r["episode_id"]) for r in rows] == [
        ("show", str(episode_id)),
        ("history", str(episode_id)),
        ("timeline", str(episode_id)),
        ("list", "*"),
    ]
    assert {(r["user"], r["role"], r["origin"]) for r in rows} == {("billing-sync", "local", "python")}
    assert [r["action"] for r in store.access.entries(episode_id, user="billing-sync")] == [
        "show",
        "history",
        "timeline",
        "list",
    ]
    assert store.access.entries(user="someone-else") == []


def test_an_unknown_episode_read_is_logged_and_refused(store: Store) -> None:
    missing = builders.open_episode().episode_id
    assert missing is not None
    with pytest.raises(EpisodeNotFound):
        store.episode(missing)
    assert [r["episode_id"] for r in store.access.entries()] == [str(missing)]
