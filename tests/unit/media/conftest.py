"""Media stores under test: the local disk, and a real S3-compatible HTTP server on localhost.

The S3 server is moto's ``ThreadedMotoServer`` on a free 127.0.0.1 port: boto3 talks HTTP to it
exactly as to MinIO. The endpoint and fake credentials come from the settings; every ``AWS_*``
variable and AWS config file of the user's environment is hidden, so nothing can reach a real
account or the internet. Each test gets a bucket of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from gridgov.config import Settings
from tests.unit.media.stores import s3_settings


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto S3 server running in this test process."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide the user's AWS variables and files: only the settings may configure boto3."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(params=["filesystem", "s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The media tests run once per store."""
    if request.param == "filesystem":
        return Settings(
            data_dir=tmp_path,
            environment="test",
            media_max_bytes=200_000,
            media_store="filesystem",
        )
    return s3_settings(request.getfixturevalue("s3_endpoint"), tmp_path)
