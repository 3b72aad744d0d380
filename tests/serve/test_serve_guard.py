"""The access rules of ``labdeck serve`` as plain functions (no server, no sockets)."""

from __future__ import annotations

import pytest

from labdeck.serve.guard import Access, host_name, is_loopback, page_url


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "app.localhost"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com", "localhost.example.com"]
)
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_token_only_off_loopback() -> None:
    assert Access.for_host("127.0.0.1").token is None
    assert Access.for_host("localhost").token is None
    first, second = Access.for_host("0.0.0.0"), Access.for_host("0.0.0.0")
    assert first.token and second.token and first.token != second.token
    assert len(first.token) >= 32


def test_host_name_and_page_url() -> None:
    assert host_name("[::1]:8000") == "::1"
    assert host_name("localhost:8000") == "localhost"
    assert host_name("example.com") == "example.com"
    assert page_url("127.0.0.1", 8000, None) == "http://127.0.0.1:8000/"
    assert page_url("::1", 8000, None) == "http://[::1]:8000/"
    assert page_url("192.0.2.7", 9000, "abc") == "http://192.0.2.7:9000/?token=abc"


def _refusal(access: Access, **request: object) -> str | None:
    fields = {
        "host_header": "127.0.0.1:8000",
        "origin": None,
        "websocket": False,
        "query_token": None,
        "cookie_token": None,
    }
    fields.update(request)
    return access.refusal(**fields)  # type: ignore[arg-type]


def test_loopback_answers_only_to_loopback_names() -> None:
    local = Access("127.0.0.1", None)
    assert _refusal(local) is None
    assert _refusal(local, host_header="localhost:8000") is None
    assert _refusal(local, host_header="[::1]:8000") is None
    # a page whose own domain resolves to 127.0.0.1 (DNS rebinding) is refused
    assert "localhost" in (_refusal(local, host_header="evil.example:8000") or "")
    assert _refusal(local, host_header='x"><script>') == "bad Host header"


def test_websocket_must_come_from_the_page_origin() -> None:
    local = Access("127.0.0.1", None)
    own = {"websocket": True, "host_header": "localhost:8000"}
    assert _refusal(local, **own, origin="http://localhost:8000") is None
    assert _refusal(local, **own) is None  # not a browser: no Origin header
    assert _refusal(local, **own, origin="http://evil.example") is not None
    assert _refusal(local, **own, origin="http://127.0.0.1:8000") is not None


def test_token_from_url_or_cookie() -> None:
    remote = Access("192.0.2.7", "s3cret-token")
    host = {"host_header": "192.0.2.7:8000"}
    assert "token" in (_refusal(remote, **host) or "")
    assert _refusal(remote, **host, query_token="wrong") is not None
    assert _refusal(remote, **host, query_token="s3cret-tokenX") is not None
    assert _refusal(remote, **host, query_token="") is not None
    assert _refusal(remote, **host, query_token="é") is not None
    assert _refusal(remote, **host, query_token="s3cret-token") is None
    assert _refusal(remote, **host, cookie_token="s3cret-token") is None
    assert _refusal(remote, **host, query_token="wrong", cookie_token="s3cret-token") is None
    # any Host name is fine off loopback: the token is the key
    assert _refusal(remote, host_header="labbox.lan:8000", cookie_token="s3cret-token") is None
