"""The join address: reachable by students (never localhost), and its QR code made locally."""

from __future__ import annotations

import socket

import pytest

from steplr_viz.classroom import join


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("[::1]", True),
        ("0.0.0.0", True),
        ("192.168.1.20", False),
        ("10.0.0.5", False),
        ("class.example.org", False),
    ],
)
def test_is_loopback_host(host, loopback):
    assert join.is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8501",
        "http://127.0.0.1:8501",
        "ftp://example.org",
        "example.org",
        "http://",
        "http://example.org:port",
        "http://example.org/?x=1",
        "http://" + "a" * 400 + ".org",
    ],
)
def test_a_public_url_students_cannot_use_is_refused(url):
    with pytest.raises(ValueError):
        join.check_public_url(url)


def test_a_teachers_address_wins_and_loses_its_trailing_slash():
    assert join.base_url("https://class.example.org/app/", 8501) == "https://class.example.org/app"


def test_the_lan_address_is_never_loopback(monkeypatch):
    class Loopback:
        def __init__(self, *args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def connect(self, address):
            pass

        def getsockname(self):
            return ("127.0.0.1", 5000)

    monkeypatch.setattr(socket, "socket", Loopback)
    monkeypatch.setattr(socket, "gethostbyname", lambda name: "127.0.1.1")
    assert join.lan_address() is None
    assert join.base_url(None, 8501) is None


def test_the_lan_address_comes_from_the_route_without_sending(monkeypatch):
    sent = []

    class Routed:
        def __init__(self, family, kind):
            assert kind == socket.SOCK_DGRAM  # UDP: connect() sends no packet

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def connect(self, address):
            pass

        def send(self, data):
            sent.append(data)

        def getsockname(self):
            return ("192.168.7.42", 5000)

    monkeypatch.setattr(socket, "socket", Routed)
    assert join.base_url(None, 8765, "/steplr/") == "http://192.168.7.42:8765/steplr"
    assert sent == []


def test_join_url_lists_params_in_a_stable_order():
    url = join.join_url("http://10.0.0.5:8501", "Present", {"step": "3", "class": "a1b2c3"})
    assert url == "http://10.0.0.5:8501/Present?class=a1b2c3&step=3"


def test_the_qr_code_is_a_png_made_offline():
    png = join.qr_png("http://10.0.0.5:8501/Present?class=a1b2c3&step=3")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert png == join.qr_png("http://10.0.0.5:8501/Present?class=a1b2c3&step=3")
