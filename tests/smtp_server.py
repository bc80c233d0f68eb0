"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import contextlib
import email
import socket
from dataclasses import dataclass, field
from email.message import Message


@dataclass
class Received:
    recipients: list[str]
    message: Message

    @property
    def text(self) -> str:
        part = self.message.get_payload(decode=True) if not self.message.is_multipart() else b""
        return part.decode("utf-8") if part else ""


@dataclass
class MailSink:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(list(envelope.rcpt_tos), email.message_from_bytes(envelope.content))
        )
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_sink():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port: (port, sink)."""
    from aiosmtpd.controller import Controller

    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, sink
    finally:
        controller.stop()
