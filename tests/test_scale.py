"""The real engines at scale, each as its own process: a two-node Ray cluster that ``ingest`` joins,
an MLflow server that training registers in and the service scores from, and two ``talktrack serve``
processes on one PostgreSQL catalog where one is killed mid-job and the other finishes it.

Slow (about 3 minutes together on 2 cores): run by ``make test-scale``, which also starts PostgreSQL.
Every server here is started by the test, listens on 127.0.0.1 and is stopped by its process group
(never ``ray stop``, which stops every Ray of the machine, other people's test runs included).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import func, select

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Call, Deal, Job, Speaker, Utterance
from talktrack.core.workspace import Workspace
from tests.serving_support import bearer, upload

BIN = Path(sys.executable).parent
CHILD_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MLFLOW_DISABLE_TELEMETRY": "true",
             "RAY_USAGE_STATS_ENABLED": "0", "PYANNOTE_METRICS_ENABLED": "0"}
# What the servers and commands here must not inherit from the shell the tests run in: Ray's
# cluster and token settings, and TALKTRACK_* settings variables a developer may have set.
RAY_ENV = ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")
LEASE_S = 4.0  # serving.job_lease_s: its minimum, so the other server takes over soon
OTHER_HOST = "scale-host-b"


# --- processes ------------------------------------------------------------------------------------
class Server:
    """A command in a process group of its own, its output in a log file; stopped with the group."""

    def __init__(self, command: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.command, self.log_path = command, log
        self._log = log.open("wb")
        self.process = subprocess.Popen(command, env=_child_env(env), stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, ready: Callable[[], bool], what: str, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if self.process.poll() is not None:
                raise AssertionError(f"{what}: {self.command[0]} exited {self.process.returncode}:\n"
                                     f"{self.output[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout_s} s:\n{self.output[-3000:]}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the whole group: what a crashed host looks like to the others."""
        _signal_group(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, grace_s: float = 30) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.process.pid, signal.SIGKILL)  # whatever the leader left behind
        self.process.wait()
        self._log.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in RAY_ENV and not k.startswith("TALKTRACK_")}
    return inherited | CHILD_ENV | (extra or {})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code in (200, 503)
    except httpx.TransportError:
        return False


def _wait(condition: Callable[[], object], what: str, timeout_s: float, every_s: float = 0.3):
    """Poll ``condition`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every_s)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def _talktrack(*args: str, timeout_s: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([str(BIN / "talktrack"), *args], env=_child_env(), capture_output=True, text=True,
                          timeout=timeout_s)
    assert done.returncode == 0, f"talktrack {' '.join(args)}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done


# --- 0. joining a cluster that is not there fails at once, naming the address ---------------------
def test_ingest_to_a_ray_address_where_nothing_listens_fails_at_once_naming_it(call_audio, tmp_path):
    address = f"127.0.0.1:{_free_port()}"
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(call_audio[0], folder)
    started = time.monotonic()
    command = [str(BIN / "talktrack"), "-w", str(tmp_path / "ws"), "ingest", str(folder),
               "--ray-address", address]
    done = subprocess.run(command, env=_child_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"error: cannot join the Ray cluster at {address}: nothing answers there" in done.stderr
    assert time.monotonic() - started < 60  # Ray alone retries for about 14 minutes


# --- a. ingest on a two-node Ray cluster ----------------------------------------------------------
@pytest.fixture
def ray_cluster() -> Iterator[dict]:
    """A head and a second node, each a ``ray start --block`` of its own with 1 CPU and its own temp
    dir (short: Ray's socket paths must fit 107 bytes), token authentication on with a token of this
    test's. The driver gets only ``RAY_AUTH_TOKEN_PATH``, the way a machine where Ray ran before has
    ``~/.ray/auth_token``: joining must find and send it (Ray's driver does not, for an address)."""
    root = Path(tempfile.mkdtemp(prefix="tt-ray-", dir="/tmp"))
    token = root / "auth_token"
    token.write_text(uuid.uuid4().hex)
    auth = {"RAY_AUTH_TOKEN_PATH": str(token)}
    port = _free_port()
    node = ["--block", "--num-cpus", "1", "--object-store-memory", str(200 * 2**20)]
    nodes = []
    try:
        token_mode = auth | {"RAY_AUTH_MODE": "token"}  # the nodes: as the README says to start them
        head = Server([str(BIN / "ray"), "start", "--head", "--port", str(port), "--include-dashboard",
                       "false", "--temp-dir", str(root / "head"), *node], root / "head.log", token_mode)
        nodes.append(head)
        head.wait_until(lambda: "Ray runtime started" in head.output, "the Ray head", 120)
        worker = Server([str(BIN / "ray"), "start", "--address", f"127.0.0.1:{port}", "--temp-dir",
                         str(root / "worker"), *node], root / "worker.log", token_mode)
        nodes.append(worker)
        worker.wait_until(lambda: "Ray runtime started" in worker.output, "the second Ray node", 120)
        yield {"address": f"127.0.0.1:{port}", "head": root / "head", "worker": root / "worker", "env": auth}
    finally:
        for server in reversed(nodes):
            server.stop()
        _kill_leftovers(str(root))
        shutil.rmtree(root, ignore_errors=True)


def _kill_leftovers(marker: str) -> None:
    """Processes of this test's Ray nodes still alive after their ``ray start`` stopped (found by
    the test's own temp dir in their command line), killed by pid."""
    import psutil

    for process in psutil.process_iter(["pid", "cmdline"]):
        if any(marker in part for part in process.info["cmdline"] or ()):
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass


def _words(texts) -> set[str]:
    return {w.strip(".,?!'").lower() for text in texts for w in text.split()}


def _stage_work(node_dir: Path) -> set[str]:
    """The actors and tasks a node ran, from its own workers' logs (each starts with its name)."""
    names = set()
    for log in node_dir.glob("session_2*/logs/worker-*.out"):
        names |= set(re.findall(r"^:(?:actor|task)_name:(\w+)", log.read_text(errors="replace"), re.M))
    return names


@pytest.mark.slow
def test_ingest_runs_on_an_existing_two_node_ray_cluster(ray_cluster, tmp_path):
    world, workspace = tmp_path / "world", tmp_path / "ws"
    _talktrack("world", "generate", "--out", str(world), "--seed", "3", "--reps", "2", "--customers", "4",
               "--deals", "4", "--calls", "4", "--lang", "en", "--audio", "2")
    done = subprocess.run([str(BIN / "talktrack"), "-w", str(workspace), "ingest", str(world / "audio"),
                           "--ray-address", ray_cluster["address"], "--json"],
                          env=_child_env(ray_cluster["env"]), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert (report["done"], report["failed"]) == (2, 0), report
    assert report["resources"]["cpus"] == 2.0  # one CPU on each node
    assert "Connecting to existing Ray cluster" in done.stderr

    # the work ran on the cluster's nodes (each node's own logs), and on both of them
    on_head, on_worker = _stage_work(ray_cluster["head"]), _stage_work(ray_cluster["worker"])
    assert on_head and on_worker, (on_head, on_worker)
    assert on_head | on_worker >= {"decode_stage", "DiarizeStage", "TranscribeStage", "AssembleStage"}

    # the calls are in the catalog, transcribed, with the words that were spoken
    catalog = open_catalog(Workspace.at(workspace).catalog_url)
    try:
        with catalog.session() as session:
            calls = session.scalars(select(Call)).all()
            assert sorted(c.status for c in calls) == ["transcribed", "transcribed"]
            for call in calls:
                reference = Path(call.audio_path).with_suffix(".txt").read_text(encoding="utf-8")
                spoken = _words(line.split("\t")[1] for line in reference.splitlines())
                heard = _words(u.text for u in call.utterances)
                assert len(heard & spoken) >= 0.6 * len(heard), call.external_id
                assert Path(call.transcript_path).is_file()
    finally:
        catalog.dispose()


# --- b. training and scoring against an MLflow server ---------------------------------------------
@pytest.fixture
def mlflow_server(tmp_path) -> Iterator[str]:
    """``mlflow server`` on a SQLite store, serving the artefacts itself (clients upload through it)."""
    port, store = _free_port(), tmp_path / "mlflow-server"
    store.mkdir()
    server = Server([str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                     "--workers", "1", "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
                     "--artifacts-destination", str(store / "artifacts")], tmp_path / "mlflow-server.log")
    try:
        server.wait_until(lambda: _answers(f"http://127.0.0.1:{port}/health"), "mlflow server", 120)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.mark.slow
def test_training_registers_in_an_mlflow_server_and_the_service_scores_with_it(mlflow_server, tmp_path):
    import mlflow

    from talktrack.serving.keys import create_key

    world, root = tmp_path / "world", tmp_path / "ws"
    _talktrack("world", "generate", "--out", str(world), "--seed", "5", "--reps", "12", "--customers", "80",
               "--deals", "200", "--calls", "500", "--audio", "0")
    _talktrack("-w", str(root), "import", str(world))
    config = root / "mlflow-server.yaml"
    config.write_text(f"mlflow:\n  tracking_uri: {mlflow_server}\n", encoding="utf-8")
    _talktrack("-w", str(root), "-c", str(config), "train", "customer")

    # registered in the server: a champion whose artefacts went through the server, nothing local
    client = mlflow.MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    champion = client.get_model_version_by_alias("talktrack-customer-scorer", "champion")
    assert client.get_run(champion.run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    assert not list(root.rglob("mlflow.db"))

    # the service loads that champion from the server and scores a deal with it
    workspace = Workspace.at(root)
    catalog = open_catalog(workspace.catalog_url)
    try:
        key, _ = create_key(catalog, "crm", name="scale test")
        with catalog.session() as session:
            deal = session.scalar(select(Deal.external_id).order_by(Deal.id).limit(1))
    finally:
        catalog.dispose()
    server, url = _serve(root, config, "mlflow")
    try:
        score = httpx.post(f"{url}/v1/score", json={"deal_id": deal}, headers=bearer(key), timeout=120)
    finally:
        server.stop()
    assert score.status_code == 200, score.text
    assert 0 < score.json()["probability"] < 1
    model = score.json()["model"]
    assert (model["name"], str(model["version"])) == ("talktrack-customer-scorer", str(champion.version))


# --- c. two services on one PostgreSQL catalog: one dies mid-job, the other finishes it -----------
@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of this test's own on the server of TT_TEST_CATALOG_URL, dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("TT_TEST_CATALOG_URL")
    if not base or not base.startswith("postgresql"):
        pytest.skip("needs a PostgreSQL server in TT_TEST_CATALOG_URL: run `make test-scale`")
    name = f"talktrack_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        # the role needs CREATEDB, which scripts/with_postgres.sh grants
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _serve(root: Path, config: Path, name: str, host: str | None = None) -> tuple[Server, str]:
    """``talktrack serve`` on a free port; under ``host``, in a UTS namespace with that host name,
    so that the job queue sees two hosts (not two processes of one host, whose deaths it sees at once)."""
    port = _free_port()
    command = [str(BIN / "talktrack"), "-w", str(root), "-c", str(config), "serve", "--port", str(port)]
    if host:
        command = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "sh", *command]
    server = Server(command, root / f"serve-{name}.log")
    url = f"http://127.0.0.1:{port}"
    server.wait_until(lambda: _answers(f"{url}/health"), f"talktrack serve ({name})", 120)
    return server, url


def _job(catalog, job_id: str) -> Job:
    with catalog.session() as session:
        job = session.scalar(select(Job).where(Job.external_id == job_id))
        session.expunge(job)
        return job


@pytest.mark.slow
def test_a_killed_service_s_job_is_finished_by_the_other_after_the_lease(postgres_url, call_audio, tmp_path):
    from talktrack.serving.keys import create_key

    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to give the second service a host name of its own")
    root = tmp_path / "ws"
    root.mkdir()
    config = root / "two-hosts.yaml"
    config.write_text(f"catalog:\n  url: {postgres_url}\nserving:\n  job_lease_s: {LEASE_S}\n",
                      encoding="utf-8")
    catalog = open_catalog(postgres_url)  # migrates the new database before either service starts
    crm, _ = create_key(catalog, "crm", name="scale crm")
    admin, _ = create_key(catalog, "admin", name="scale admin")
    # the generated call four times over (~4 min of speech): a job that outlasts B's start and a
    # lease by a margin (measured on 2 cores: killed 12 s into a 3-minute recording's ~25 s job)
    samples, rate = sf.read(call_audio[0], dtype="int16")
    recording = tmp_path / "long-call.wav"
    sf.write(recording, np.concatenate([samples] * 4), rate)

    a, a_url = _serve(root, config, "a")
    b = None
    try:
        with httpx.Client(base_url=a_url, timeout=60) as http:
            accepted = upload(http, crm, recording, language="en", num_speakers=2)
        assert accepted.status_code == 202, accepted.text
        job_id, call_id = accepted.json()["job_id"], accepted.json()["call_id"]
        a_token = _wait(lambda: (j := _job(catalog, job_id)).status == "running" and j.payload["worker"],
                        "service A claims the job", 30, 0.1)

        b, b_url = _serve(root, config, "b", host=OTHER_HOST)
        # while A lives and stamps its job, B (another host) leaves it alone, for more than a lease
        time.sleep(LEASE_S + 1)
        job = _job(catalog, job_id)
        assert (job.status, job.payload["worker"]) == ("running", a_token), "B took A's live job or A ended"
        last_stamp = job.heartbeat_at

        a.kill()
        job = _wait(lambda: (j := _job(catalog, job_id)).status in ("done", "failed") and j,
                    "the job ends", 400, 1)
        assert job.status == "done", job.error
        assert job.payload["worker"].startswith(f"{OTHER_HOST}:") and job.payload["attempts"] == 2
        # re-queued only once A's lease ran out
        assert (job.started_at - last_stamp).total_seconds() >= LEASE_S
        assert "re-queued 1 job(s)" in b.output

        # one call, one transcript: no second call, no utterance or speaker twice
        with catalog.session() as session:
            call = session.scalar(select(Call).where(Call.external_id == call_id))
            assert call.status == "transcribed"
            same_audio = select(func.count()).select_from(Call).where(Call.content_hash == call.content_hash)
            assert session.scalar(same_audio) == 1
            seqs = session.scalars(
                select(Utterance.seq).where(Utterance.call_id == call.id).order_by(Utterance.seq)).all()
            labels = session.scalars(select(Speaker.label).where(Speaker.call_id == call.id)).all()
        written = json.loads(Path(call.transcript_path).read_text(encoding="utf-8"))
        assert seqs == list(range(len(written["utterances"]))) and len(labels) == len(set(labels)) == 2
        with httpx.Client(base_url=b_url, timeout=60) as http:
            transcript = http.get(f"/v1/calls/{call_id}/transcript", headers=bearer(admin))
        assert transcript.status_code == 200 and len(transcript.json()["utterances"]) == len(seqs)
        heard = _words(u["text"] for u in transcript.json()["utterances"])
        assert len(heard & call_audio[1]) >= 0.6 * len(heard)
    finally:
        for server in (b, a):
            if server is not None:
                server.stop()
        catalog.dispose()
