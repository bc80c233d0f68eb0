"""The grassroots web app served by uvicorn on 127.0.0.1 in a thread, for the upload
page's tests (a real server: real sockets, real concurrency)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import uvicorn


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_app():
    """Yield the server's base URL (the app under /grassroots); it stops on exit."""
    from fastapi import FastAPI

    from grassroots.web.app import URL_PREFIX, create_app

    # Mounted under /grassroots as the Airflow plugin mounts it.
    root = FastAPI()
    root.mount(URL_PREFIX, create_app())
    port = _free_port()
    config = uvicorn.Config(root, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the upload page's server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
