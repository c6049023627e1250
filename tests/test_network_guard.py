"""The suite cannot reach the network by accident, but loopback fakes work."""

import socket

import pytest


def test_outside_addresses_are_refused() -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="must not reach"):
        sock.connect(("192.0.2.1", 443))


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
