"""What the service tests share: a real uvicorn server in a thread, bearer headers, error checks."""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
from typing import Self

import httpx


class LiveServer:
    """uvicorn serving ``app`` in a thread on a socket bound here (so no port race)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def assert_error(response: httpx.Response, status: int) -> dict:
    """The response is a JSON error of ``status`` with a code and a message; returns its body."""
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] and body["message"]
    return body


def wait_for_job(http: httpx.Client, job_id: str, key: str, timeout_s: float = 180) -> dict:
    """Poll ``/v1/jobs/{job_id}`` until it is done or failed; the job's last answer."""
    deadline = time.monotonic() + timeout_s
    job: dict = {}
    while time.monotonic() < deadline:
        job = http.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not finished after {timeout_s} s: {job}")


def upload(http: httpx.Client, key: str, path, name: str | None = None, content_type: str = "audio/wav", **form):
    """POST a recording to ``/v1/calls`` as multipart, with metadata fields."""
    with open(path, "rb") as handle:
        files = {"file": (name or path.name, handle, content_type)}
        return http.post("/v1/calls", files=files, data={k: str(v) for k, v in form.items()}, headers=bearer(key))


def raw_exchange(url: str, head: bytes, chunks=(), timeout_s: float = 10) -> tuple[int, dict, int]:
    """Send ``head`` and then ``chunks`` on a plain socket, as far as the server lets us; returns
    (the response's status, its JSON body, how many chunks were sent before the answer came)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout_s) as conn:
        conn.sendall(head)
        sent = 0
        for chunk in chunks:
            if select.select([conn], [], [], 0)[0]:
                break  # the server has answered already
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break  # the server stopped reading
            sent += 1
        response = http.client.HTTPResponse(conn)
        response.begin()
        return response.status, json.loads(response.read()), sent
