"""What the fakes of external HTTP APIs share: a process on a fixed port, its controls, its main.

A fake is a FastAPI app in a module of its own, run as `python -m <module> --port <port>` with
its bearer token in an environment variable, so tests and `make dev` run the same server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.error import URLError
from urllib.request import Request as UrlRequest
from urllib.request import urlopen

from fastapi import FastAPI

from mandi_testing.processes import ServiceFailed, stop_process_group

__all__ = ["FakeServer", "serve"]

_READY_SECONDS = 20.0


@dataclass
class FakeServer:
    """A fake's process on a fixed port, which a test may stop and start again.

    Subclasses name their `module`, the `token_variable` it reads and a `title` for errors.
    """

    port: int
    token: str | None
    log: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    module: ClassVar[str]
    token_variable: ClassVar[str]
    title: ClassVar[str]

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts the process (again) on the same port, if it is not running."""
        if self._process is not None and self._process.poll() is None:
            return
        environment = {**os.environ, self.token_variable: self.token or ""}
        with self.log.open("ab") as output:
            self._process = subprocess.Popen(
                [sys.executable, "-m", self.module, "--port", str(self.port)],
                env=environment,
                stdout=output,
                stderr=output,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._wait_ready()

    def stop(self) -> None:
        """Stops the process: calls to it are refused until `start`."""
        process, self._process = self._process, None
        if process is not None:
            stop_process_group(process)

    def _call(
        self, path: str, body: dict[str, Any] | None = None, *, method: str | None = None
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"}
        url = self.url + path
        request = UrlRequest(url, data=data, headers=headers, method=method)  # noqa: S310 - local
        with urlopen(request, timeout=5) as answer:  # noqa: S310 - a local http URL we built
            loaded: dict[str, Any] = json.loads(answer.read())
            return loaded

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_SECONDS
        while True:
            try:
                with urlopen(f"{self.url}/healthz", timeout=1):  # noqa: S310 - local URL
                    return
            except (URLError, OSError):
                if self._process is not None and self._process.poll() is not None:
                    raise ServiceFailed(f"{self.title} exited; see {self.log}") from None
                if time.monotonic() > deadline:
                    raise ServiceFailed(f"{self.title} was not ready; see {self.log}") from None
                time.sleep(0.1)


def serve(
    create_app: Callable[[str | None], FastAPI],
    *,
    description: str | None,
    token_variable: str,
    default_port: int,
) -> None:
    """Serves a fake until interrupted: `--host`, `--port`, the token from `token_variable`."""
    import uvicorn  # noqa: PLC0415 - only the server process needs it

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    token = os.environ.get(token_variable) or None
    uvicorn.run(create_app(token), host=args.host, port=args.port, log_level="warning")
