"""Real services for the site tests: an S3-compatible HTTP server and a Celery worker over Redis.

* ``s3`` (session): moto's server mode (``moto_server``, from the ``moto[server]`` dev dependency) in
  its own process on a free port of 127.0.0.1, with a fresh bucket. The S3 client (s3fs/botocore)
  finds it through ``AWS_ENDPOINT_URL_S3``, with dummy credentials, as a user's environment would
  point it at MinIO or Ceph. Skipped, with how to install it, when moto's server is not installed.
* ``celery_worker`` (module): ``celery -A lc_archive.tasks.app worker`` in its own process group with
  two prefork processes, on a queue and key prefix of its own in the Redis of ``LC_ARCHIVE_REDIS_URL``
  (``.ci/run`` sets ``redis://127.0.0.1:6379/0``). Skipped, with how to run it, when the variable is
  unset or Redis does not answer.

Nothing is mocked: every request crosses a socket to a real server process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REDIS_ENV = "LC_ARCHIVE_REDIS_URL"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class S3:
    """A running S3-compatible server and a bucket on it."""

    endpoint: str
    bucket: str
    env: dict[str, str]

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing-secret-key")

    def exists(self, key: str) -> bool:
        listing = self.client().list_objects_v2(Bucket=self.bucket, Prefix=key)
        return any(o["Key"] == key for o in listing.get("Contents", ()))

    def open_uploads(self, prefix: str = "") -> list[str]:
        listing = self.client().list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return [u["Key"] for u in listing.get("Uploads", ())]

    def keys(self, prefix: str = "") -> dict[str, dict[str, Any]]:
        listing = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return {o["Key"]: o for o in listing.get("Contents", ())}


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then put back what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _forget_s3_clients() -> None:
    """fsspec caches file system instances (and s3fs their clients): make the next use read the environment."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


@contextlib.contextmanager
def running_s3() -> Iterator[S3]:
    """Start moto's S3 server on 127.0.0.1 and make this process's S3 clients use it."""
    exe = shutil.which("moto_server", path=str(BIN))
    try:
        import s3fs  # noqa: F401
    except ImportError:
        exe = None
    if exe is None:
        pytest.skip("the S3 tests need moto's server and s3fs: pip install -e '.[dev]' (moto[server], s3fs)")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(os.devnull, "wb")  # noqa: SIM115
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log,
                            start_new_session=True)
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": endpoint, "AWS_EC2_METADATA_DISABLED": "true"}
    try:
        _wait_http(endpoint + "/", timeout=30)
        with environment(env):
            _forget_s3_clients()
            s3 = S3(endpoint, f"lc-archive-{uuid.uuid4().hex[:12]}", env)
            s3.client().create_bucket(Bucket=s3.bucket)
            yield s3
    finally:
        _forget_s3_clients()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    """A moto S3 server in its own process, and a fresh bucket."""
    with running_s3() as server:
        yield server


def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"the Celery tests need Redis: set {REDIS_ENV}=redis://127.0.0.1:6379/0 (.ci/run does)")
    try:
        import redis
    except ImportError:
        pytest.skip("the Celery tests need celery[redis]: pip install -e '.[dev]'")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        pytest.skip(f"no Redis answers at {url} ({exc}); start redis-server or fix {REDIS_ENV}")
    return url


@dataclass
class Worker:
    """Running Celery worker(s) and the settings a client needs to reach them."""

    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]]
    logs: list[Path]

    @property
    def log(self) -> Path:
        """The first worker's log."""
        return self.logs[0]

    def apply(self) -> None:
        """Point this process's lc-archive Celery app at the worker's broker, queue and prefix (set the
        worker's environment first, e.g. with :func:`environment`)."""
        from lc_archive.tasks.app import app, configure

        configure(app)


def celery_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    url = redis_url()
    tag = uuid.uuid4().hex[:10]
    return {"LC_ARCHIVE_BROKER_URL": url, "LC_ARCHIVE_CELERY_QUEUE": f"lc-archive-test-{tag}",
            "LC_ARCHIVE_CELERY_PREFIX": f"lc-archive-test-{tag}:", **(extra or {})}


def forget_celery_keys(env: dict[str, str]) -> None:
    """Delete every Redis key under the key prefix of ``env`` (see :func:`celery_env`)."""
    import redis

    client = redis.Redis.from_url(env["LC_ARCHIVE_BROKER_URL"])
    stale = list(client.scan_iter(f"{env['LC_ARCHIVE_CELERY_PREFIX']}*"))
    for start in range(0, len(stale), 500):
        client.delete(*stale[start:start + 500])


@contextlib.contextmanager
def running_worker(env: dict[str, str], log: Path, concurrency: int = 2, instances: int = 1) -> Iterator[Worker]:
    """``instances`` x ``celery worker`` with ``concurrency`` prefork processes each, on one queue; each in
    its own session (so each gets its own share of the CPU where the kernel groups by session); stopped
    with a warm shutdown at the end."""
    full = {**os.environ, **env}
    queue = env["LC_ARCHIVE_CELERY_QUEUE"]
    logs = [log if i == 0 else log.with_name(f"{log.stem}-{i}{log.suffix}") for i in range(instances)]
    outs = [path.open("wb") for path in logs]
    procs = [subprocess.Popen(
        [str(BIN / "celery"), "-A", "lc_archive.tasks.app", "worker", "-c", str(concurrency), "-P", "prefork",
         "-Q", queue, "-n", f"{queue}-{i}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-l", "INFO"],
        env=full, stdout=out, stderr=subprocess.STDOUT, start_new_session=True) for i, out in enumerate(outs)]
    worker = Worker(env, procs, logs)
    try:
        deadline = time.monotonic() + 60
        for proc, path in zip(procs, logs, strict=True):
            while b"ready." not in path.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"celery worker did not start:\n{path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.1)
        yield worker
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)  # warm shutdown: the main process stops its pool itself
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for out in outs:
            out.close()
