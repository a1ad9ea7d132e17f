from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pandas as pd
import pytest

from pipeline.model_store import load_estimator, load_model

FIXTURES = Path(__file__).parent / "fixtures" / "raw"
EXTRA_FIXTURES = Path(__file__).parent / "fixtures" / "raw_extra"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def extra_fixtures() -> Path:
    """Excerpts of every file of ../shared/corpus/raw_extra (scripts/build_fixtures.py)."""
    return EXTRA_FIXTURES


@pytest.fixture(scope="session")
def shipped_model():
    """The shipped model as classification loads it: arrays, no scikit-learn."""
    return load_model()


@pytest.fixture(scope="session")
def shipped_estimator():
    """The shipped model's scikit-learn estimator (RoleClassifier), from model.skops."""
    return load_estimator()


@pytest.fixture(scope="session")
def corpus_sample() -> pd.DataFrame:
    """200 real postings of the bundled corpus, in the canonical schema."""
    return pd.read_parquet(REPO / "data" / "corpus.parquet").sample(200, random_state=7).reset_index(drop=True)


@pytest.fixture(scope="session")
def labels() -> pd.DataFrame:
    return pd.read_parquet(REPO / "data" / "labels.parquet")


class _Routes(http.server.BaseHTTPRequestHandler):
    """Serves fixture files and misbehaviours on 127.0.0.1 for the download tests."""

    routes: dict = {}
    hits: dict = {}

    def do_GET(self):  # noqa: N802
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        handler = self.routes.get(self.path)
        if handler is None:
            self.send_error(404, "Not Found")
            return
        try:
            handler(self, self.hits[self.path])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as the timeout tests intend

    def log_message(self, *args):
        pass


@pytest.fixture()
def http_server():
    """A local server; tests register routes as {path: fn(handler, hit_count)}."""
    routes: dict = {}
    handler = type("Handler", (_Routes,), {"routes": routes, "hits": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", routes
    server.shutdown()
    server.server_close()
