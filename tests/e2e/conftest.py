"""Session-wide real peers: one fake Graph API process, one database, one gateway process;
the log scan over everything the session's processes wrote."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import harness
from tests.e2e.harness import FakePeer, Gateway, fresh_database
from tests.e2e.log_scan import assert_logs_are_clean


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where every process of the session logs. Torn down last, after every test of the
    session and every process they started: then its logs are complete and are scanned (CP6:
    no secret, personal data or message text in any of them); findings fail the run as an
    error at the teardown of the session's last test."""
    path = tmp_path_factory.mktemp("e2e")
    yield path
    assert_logs_are_clean(path, harness.STARTED_LOGS)


@pytest.fixture(scope="session")
def fake_meta(workdir: Path) -> Iterator[FakePeer]:
    peer = FakePeer("meta", workdir, "--access-token", "e2e-access-token")
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def fake_fonnte(workdir: Path) -> Iterator[FakePeer]:
    peer = FakePeer("fonnte", workdir, "--token", "e2e-fonnte-token")
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def fake_ai(workdir: Path) -> Iterator[FakePeer]:
    peer = FakePeer("openai", workdir)
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def gateway(
    workdir: Path,
    database_url: str,
    fake_meta: FakePeer,
    fake_fonnte: FakePeer,
    fake_ai: FakePeer,
) -> Iterator[Gateway]:
    running = Gateway(
        workdir,
        database_url=database_url,
        graph_url=f"{fake_meta.url}/v22.0",
        fonnte_url=f"{fake_fonnte.url}/send",
        ai_url=f"{fake_ai.url}/v1",
        WAGATE_MAX_BODY_BYTES="65536",
        # Case intake (FL1): the keyword sends this Flow (the fake Graph API takes any id).
        INTAKE_FLOW_ID="400000000000001",
    ).start()
    yield running
    running.stop()


@pytest.fixture
def sender() -> str:
    """A phone number no other test uses, in canonical form."""
    return "62812" + "".join(random.choices("0123456789", k=8))
