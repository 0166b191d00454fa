"""The address students type or scan to join the class: a reachable host, never localhost.

The server's LAN address is found without sending a packet: connecting a UDP socket only asks
the kernel which interface would route to a private address. A teacher behind a proxy or a
tunnel sets the address instead (STEPLR_VIZ_PUBLIC_URL or the page's text box).
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import os
import socket
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

import segno

PUBLIC_URL_ENV = "STEPLR_VIZ_PUBLIC_URL"
# Any private address will do: UDP connect() sends nothing, it only picks the route.
_PROBE = ("10.255.255.255", 1)
MAX_URL_LENGTH = 300


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.x, ::1 and 0.0.0.0: addresses no student's device can reach."""
    host = host.strip("[]").lower()
    if host in {"localhost", ""} or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: the teacher knows it resolves for the class
    return ip.is_loopback or ip.is_unspecified


def lan_address() -> str | None:
    """This machine's address on the local network, or None when it has only loopback."""
    candidates = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(_PROBE)  # no traffic: a UDP connect only chooses the interface
            candidates.append(sock.getsockname()[0])
    except OSError:
        pass  # no route at all (an offline laptop): try the host name
    with contextlib.suppress(OSError):  # no name service either
        candidates.append(socket.gethostbyname(socket.gethostname()))
    return next((ip for ip in candidates if not is_loopback_host(ip)), None)


def check_public_url(url: str) -> str:
    """A teacher-set base address, normalised (no trailing slash); ValueError saying why not."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"the address is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as err:
        raise ValueError("the address is not a valid URL") from err
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("the address must start with http:// or https:// and name a host")
    if is_loopback_host(parts.hostname):
        raise ValueError("localhost is this computer only: students' devices cannot reach it")
    if parts.query or parts.fragment:
        raise ValueError("give the app's address without ?… or #…")
    return url.rstrip("/")


def base_url(public_url: str | None, port: int, base_path: str = "") -> str | None:
    """Where students reach the app: the teacher's address if set, else http://<LAN ip>:port."""
    if public_url:
        return check_public_url(public_url)
    host = lan_address()
    if host is None:
        return None
    path = base_path.strip("/")
    return f"http://{host}:{int(port)}" + (f"/{path}" if path else "")


def env_public_url() -> str | None:
    """The address set in STEPLR_VIZ_PUBLIC_URL, if any (checked by base_url)."""
    return os.environ.get(PUBLIC_URL_ENV, "").strip() or None


def join_url(base: str, page_path: str, params: Mapping[str, str]) -> str:
    """The full address of a page with these query parameters, in a stable order."""
    query = urlencode(sorted(params.items()))
    page = page_path.strip("/")
    return f"{base.rstrip('/')}/{page}" + (f"?{query}" if query else "")


def qr_png(url: str, scale: int = 8) -> bytes:
    """A QR code of `url` as PNG bytes, made locally (segno, no network)."""
    qr = segno.make(url, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()
