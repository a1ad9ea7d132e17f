import pandas as pd
import pytest

from pipeline.ingest import sources
from pipeline.ingest import ingest
from pipeline.ingest.sources import SourceError

CSV = "职位,职位描述\n客服专员,回答客户问题\n".encode()


def _serve(body: bytes, status: int = 200, content_type: str = "text/csv", length: int | None = None):
    def handler(h, hit):
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(length if length is not None else len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handler


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(sources, "HTTP_BACKOFF_SECONDS", 0.01)


def test_download_of_a_csv(http_server):
    base, routes = http_server
    routes["/ads.csv"] = _serve(CSV)
    _, frame = ingest([f"{base}/ads.csv"])
    assert frame["title"].tolist() == ["客服专员"]
    assert frame["raw_file"].iloc[0] == f"{base}/ads.csv"


def test_a_500_then_success_is_retried(http_server):
    base, routes = http_server

    def flaky(h, hit):
        (_serve(b"oops", 500) if hit == 1 else _serve(CSV))(h, hit)

    routes["/flaky.csv"] = flaky
    _, frame = ingest([f"{base}/flaky.csv"])
    assert len(frame) == 1


def test_a_404_is_a_clear_error(http_server):
    base, _ = http_server
    with pytest.raises(SourceError, match="HTTP 404"):
        ingest([f"{base}/missing.csv"])


def test_a_cut_off_download_is_refused(http_server):
    base, routes = http_server
    routes["/cut.csv"] = _serve(CSV, length=len(CSV) + 500)
    with pytest.raises(SourceError, match="download failed|cut off|peer closed"):
        ingest([f"{base}/cut.csv"])


def test_html_instead_of_data_is_refused(http_server):
    base, routes = http_server
    routes["/login.csv"] = _serve(b"<!DOCTYPE html><html><body>login</body></html>", content_type="text/html; charset=utf-8")
    with pytest.raises(SourceError, match="HTML page"):
        ingest([f"{base}/login.csv"])


def test_redirect_to_a_non_http_scheme_is_refused(http_server):
    base, routes = http_server

    def redirect(h, hit):
        h.send_response(302)
        h.send_header("Location", "file:///etc/passwd")
        h.end_headers()

    routes["/go.csv"] = redirect
    with pytest.raises(SourceError, match="non-http"):
        ingest([f"{base}/go.csv"])


def test_a_read_timeout_is_retried_then_reported(http_server, monkeypatch):
    import time

    base, routes = http_server
    monkeypatch.setattr(sources, "HTTP_TIMEOUT", 0.3)

    def slow(h, hit):
        time.sleep(1.0)
        _serve(CSV)(h, hit)

    routes["/slow.csv"] = slow
    with pytest.raises(SourceError, match="after 4 attempts"):
        ingest([f"{base}/slow.csv"])


def test_size_limit(http_server, monkeypatch):
    base, routes = http_server
    routes["/big.csv"] = _serve(CSV * 100)
    monkeypatch.setattr(sources, "MAX_DOWNLOAD_BYTES", 100)
    with pytest.raises(SourceError, match="limit"):
        ingest([f"{base}/big.csv"])


def test_zip_over_http(http_server, fixtures):
    base, routes = http_server
    routes["/job.zip"] = _serve((fixtures / "jobhunting_2024-10-10_job.zip").read_bytes(), content_type="application/zip")
    _, frame = ingest([f"{base}/job.zip"])
    assert len(frame) == 6 and isinstance(frame, pd.DataFrame)
