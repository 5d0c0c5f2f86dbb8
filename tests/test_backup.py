"""Backup and restore: a snapshot taken while the catalog is written restores into a new workspace with
the same counts, search hits and registered models; a damaged or hostile archive and a non-empty
target are refused before anything is written."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tarfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Call
from talktrack.core.workspace import Workspace
from talktrack.pipelines.backup import BackupError, RestoreError, create_backup, restore_backup, verify_archive
from talktrack.pipelines.backup.snapshot import sqlite_counts
from tests.test_crm_import import write_world

QUERIES = ("that is too expensive for us", "can you send me the contract", "我们预算有限")
runner = CliRunner()


def _workspace(root: Path, settings):
    workspace = Workspace.at(root).ensure()
    return settings.model_copy(update={"workspace": workspace.root}), workspace


def _counts(workspace: Workspace) -> dict[str, int]:
    return sqlite_counts(workspace.catalog_path)


@pytest.fixture(scope="module")
def source(tmp_path_factory, semantic_workspace):
    """The imported semantic world with its utterance index, a registered customer scorer, one recording
    uploaded into the workspace and one the catalog names outside it."""
    from talktrack.pipelines.semantic.index import build_utterance_index
    from talktrack.training.customer import train_customer

    base_settings, shared, _ = semantic_workspace
    root = tmp_path_factory.mktemp("backup-source") / "ws"
    shutil.copytree(shared.root, root)
    settings, workspace = _workspace(root, base_settings)
    catalog = open_catalog(workspace.catalog_url)
    build_utterance_index(catalog, settings, workspace)
    train_customer(catalog, settings, workspace)
    upload = workspace.audio_dir / "upload-1.wav"
    upload.write_bytes(b"RIFF" + os.urandom(64_000))
    outside = root.parent / "dialer" / "call-2.wav"
    outside.parent.mkdir()
    outside.write_bytes(b"RIFF" + os.urandom(1000))
    with catalog.session() as session:
        first, second = session.scalars(select(Call.id).order_by(Call.id).limit(2)).all()
        session.execute(update(Call).where(Call.id == first).values(audio_path=str(upload)))
        session.execute(update(Call).where(Call.id == second).values(audio_path=str(outside)))
    yield settings, workspace, catalog
    catalog.dispose()


@pytest.fixture(scope="module")
def restored(tmp_path_factory, source):
    """The source backed up while a write transaction is open on its catalog, then restored elsewhere."""
    settings, workspace, _ = source
    before = _counts(workspace)
    writer = sqlite3.connect(workspace.catalog_path, isolation_level=None, timeout=30)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO teams (external_id, name) VALUES ('T-UNCOMMITTED', 'written during the backup')")
    out = tmp_path_factory.mktemp("backups")
    started = time.perf_counter()
    report = create_backup(settings, workspace, out / "ws.tar.gz")
    backup_s = time.perf_counter() - started
    writer.execute("COMMIT")
    writer.close()
    target_settings, target = _workspace(tmp_path_factory.mktemp("restored") / "ws", settings)
    started = time.perf_counter()
    restore = restore_backup(report.archive, target_settings, target)
    restore_s = time.perf_counter() - started
    print(f"\nbackup {backup_s:.2f} s, restore {restore_s:.2f} s, archive {report.archive_bytes / 2**20:.1f} MiB "
          f"({report.bytes / 2**20:.1f} MiB in {report.files} files)")
    return {"before": before, "report": report, "restore": restore, "settings": target_settings, "workspace": target}


def test_the_restored_workspace_has_the_counts_of_the_snapshot_not_the_open_transaction(source, restored):
    _, workspace, _ = source
    after = _counts(workspace)
    assert after["teams"] == restored["before"]["teams"] + 1  # the transaction committed after the backup
    assert _counts(restored["workspace"]) == restored["before"]
    assert restored["restore"].counts == restored["before"]
    manifest = _manifest(restored["report"].archive)
    assert manifest["catalog"]["counts"] == restored["before"]
    assert manifest["catalog"]["kind"] == "sqlite" and manifest["settings"]["workspace"] == str(workspace.root)


def test_the_same_query_finds_the_same_utterances(source, restored):
    from talktrack.pipelines.semantic.index import UtteranceIndex

    settings, workspace, catalog = source
    target = open_catalog(restored["workspace"].catalog_url)
    try:
        old = UtteranceIndex(catalog, settings, workspace)
        new = UtteranceIndex(target, restored["settings"], restored["workspace"])
        for query in QUERIES:
            expected = [(h.call_id, h.start_s, h.text, round(h.similarity, 5)) for h in old.search(query, k=10)]
            assert expected
            assert [(h.call_id, h.start_s, h.text, round(h.similarity, 5)) for h in new.search(query, k=10)] == expected
    finally:
        target.dispose()


def test_registered_models_are_listed_the_same_and_load_without_the_old_workspace(source, restored):
    from talktrack.training.registry import list_versions, load_champion, open_tracking

    settings, workspace, _ = source
    old = list_versions(settings, workspace)
    assert old and old[0]["alias"] == "champion"
    assert list_versions(restored["settings"], restored["workspace"]) == old
    moved = workspace.root.with_name("ws-moved-away")
    workspace.root.rename(moved)  # the restored store must not need a file of the old one
    try:
        model, version = load_champion(restored["settings"], restored["workspace"], old[0]["model_name"])
        assert version == old[0]["version"] and model is not None
        client = open_tracking(restored["settings"], restored["workspace"])
        stored = client.get_model_version(old[0]["model_name"], version)
        new_root = restored["workspace"].root.as_uri() + "/"
        logged = client.get_logged_model(stored.source.removeprefix("models:/"))  # source: models:/m-<id>
        assert logged.artifact_location.startswith(new_root)
        assert client.get_run(stored.run_id).info.artifact_uri.startswith(new_root)
    finally:
        moved.rename(workspace.root)


def test_paths_under_the_old_root_follow_the_workspace_and_outside_ones_are_references(source, restored):
    _, workspace, _ = source
    target: Workspace = restored["workspace"]
    catalog = open_catalog(target.catalog_url)
    try:
        with catalog.session() as session:
            first, second = session.scalars(select(Call.audio_path).order_by(Call.id).limit(2)).all()
    finally:
        catalog.dispose()
    assert first == str(target.audio_dir / "upload-1.wav")
    assert Path(first).read_bytes() == (workspace.audio_dir / "upload-1.wav").read_bytes()
    assert second == str(workspace.root.parent / "dialer" / "call-2.wav")  # outside: kept, not copied
    manifest = _manifest(restored["report"].archive)
    assert [ref["path"] for ref in manifest["audio"]["outside_workspace"]] == [second]
    assert manifest["paths"]["calls.audio_path"] == {"archived": 1, "outside": 1}
    assert restored["restore"].rewritten["calls.audio_path"] == 1
    assert restored["restore"].rewritten["mlflow/mlflow.db"] >= 3
    assert not any("dialer" in entry["path"] for entry in manifest["files"])
    record = json.loads((target.root / "restore-report.json").read_text())
    assert record["source_root"] == str(workspace.root)


def test_every_file_is_listed_with_size_and_sha256(source, restored):
    _, workspace, _ = source
    manifest = _manifest(restored["report"].archive)
    paths = {entry["path"] for entry in manifest["files"]}
    for expected in ("catalog/catalog.db", "workspace/mlflow/mlflow.db", "workspace/audio/upload-1.wav",
                     "workspace/index/utterances/english.faiss", "workspace/index/utterances/build.json"):
        assert expected in paths
    assert "workspace/catalog.db" not in paths  # the catalog travels once, as its snapshot
    assert not any(path.endswith(("-wal", "-shm")) for path in paths)
    assert all(len(entry["sha256"]) == 64 and entry["size"] >= 0 for entry in manifest["files"])
    assert manifest["databases"]["workspace/mlflow/mlflow.db"]["counts"]["registered_models"] == 1


def test_a_writer_keeps_committing_while_the_backup_runs(fresh_semantic_workspace, tmp_path):
    settings, workspace, catalog = fresh_semantic_workspace
    committed, stop = [], threading.Event()

    def write() -> None:
        connection = sqlite3.connect(workspace.catalog_path, isolation_level=None, timeout=30)
        while not stop.is_set():
            connection.execute("INSERT INTO teams (external_id, name) VALUES (?, 'busy')", (f"T-W{len(committed)}",))
            committed.append(time.perf_counter())
        connection.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        started = time.perf_counter()
        report = create_backup(settings, workspace, tmp_path / "busy.tar.gz")
        finished = time.perf_counter()
    finally:
        stop.set()
        thread.join()
    assert sum(started < at < finished for at in committed) > 10  # the backup never blocked the writer
    target_settings, target = _workspace(tmp_path / "restored", settings)
    restore_backup(report.archive, target_settings, target)
    restored = _counts(target)
    assert restored == _manifest(report.archive)["catalog"]["counts"]  # one consistent snapshot
    assert 2 <= restored["teams"] <= 2 + len(committed)
    check = sqlite3.connect(target.catalog_path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()


@pytest.fixture
def small(tmp_path, settings):
    """A tiny imported workspace and its backup (for the refusal tests: about a second each)."""
    from talktrack.pipelines.crm_import import import_directory

    settings, workspace = _workspace(tmp_path / "ws", settings)
    catalog = open_catalog(workspace.catalog_url)
    import_directory(catalog, settings, write_world(tmp_path / "crm"))
    catalog.dispose()
    (workspace.transcripts_dir / "K1.json").write_text('{"call_id": "K1"}')
    report = create_backup(settings, workspace, tmp_path / "small.tar.gz")
    return settings, workspace, report.archive


def test_a_member_changed_by_one_byte_is_refused_naming_it(small, tmp_path):
    settings, _, archive = small
    member = "workspace/transcripts/K1.json"
    tampered = _rewrite(archive, tmp_path / "tampered.tar.gz", {member: lambda data: data[:-1] + b"!"})
    target_settings, target = _workspace(tmp_path / "target", settings)
    with pytest.raises(RestoreError, match=f"{member}: SHA-256 differs"):
        restore_backup(tampered, target_settings, target)
    assert _files(target.root) == []  # verified before anything was written


def test_a_corrupted_compressed_byte_is_refused(small, tmp_path):
    settings, _, archive = small
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(bytes(data))
    target_settings, target = _workspace(tmp_path / "target", settings)
    with pytest.raises(RestoreError, match=r"(corrupt|SHA-256 differs|not in the manifest|refused)"):
        restore_backup(broken, target_settings, target)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(bytes(archive.read_bytes()[: archive.stat().st_size // 2]))
    with pytest.raises(RestoreError, match=r"member .catalog/catalog.db. is unreadable.*corrupt or truncated"):
        restore_backup(truncated, target_settings, target)
    assert _files(target.root) == []


@pytest.mark.parametrize("name, kind, why", [
    ("../evil", "file", "would leave the target directory"),
    ("workspace/../../evil", "file", "would leave the target directory"),
    ("/tmp/talktrack-evil", "file", "has an absolute"),
    ("workspace/link", "symlink", "is a symbolic link"),
    ("workspace/hard", "hardlink", "is a hard link"),
])
def test_a_member_that_could_leave_the_target_is_refused(small, tmp_path, name, kind, why):
    settings, _, archive = small
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(hostile, "w:gz") as out:
        for info in source.getmembers():
            out.addfile(info, source.extractfile(info))
        extra = tarfile.TarInfo(name)
        if kind == "symlink":
            extra.type, extra.linkname = tarfile.SYMTYPE, "/etc/passwd"
        elif kind == "hardlink":
            extra.type, extra.linkname = tarfile.LNKTYPE, "workspace/transcripts/K1.json"
        extra.size = 0 if kind != "file" else 4
        out.addfile(extra, io.BytesIO(b"evil") if kind == "file" else None)
    target_settings, target = _workspace(tmp_path / "deep" / "target", settings)
    with pytest.raises(RestoreError, match=f"member '{name}' {why}.*refused"):
        restore_backup(hostile, target_settings, target)
    assert _files(target.root) == [] and not (tmp_path / "evil").exists() and not (tmp_path / "deep" / "evil").exists()


def test_a_non_empty_workspace_is_refused_and_force_moves_it_aside(small, tmp_path):
    settings, workspace, archive = small
    with pytest.raises(RestoreError, match="is not empty .*--force"):
        restore_backup(archive, settings, workspace)
    target_settings, target = _workspace(tmp_path / "target", settings)
    (target.root / "notes.txt").write_text("keep me")
    with pytest.raises(RestoreError, match=r"not empty \(notes.txt\)"):
        restore_backup(archive, target_settings, target)
    report = restore_backup(archive, target_settings, target, force=True)
    assert (Path(report.moved_aside) / "notes.txt").read_text() == "keep me"
    assert _counts(target) == _counts(workspace)


def test_a_freshly_opened_empty_catalog_does_not_make_a_workspace_non_empty(small, tmp_path):
    settings, workspace, archive = small
    target_settings, target = _workspace(tmp_path / "target", settings)
    open_catalog(target.catalog_url).dispose()  # e.g. `talktrack status` ran there first
    restore_backup(archive, target_settings, target)
    assert _counts(target) == _counts(workspace)


def test_the_cli_backs_up_without_audio_and_restores(small, tmp_path):
    from talktrack.cli.main import app

    _, workspace, _ = small
    (workspace.audio_dir / "note.wav").write_bytes(b"RIFF" + bytes(100))
    out = tmp_path / "cli"
    out.mkdir()
    made = runner.invoke(app, ["--workspace", str(workspace.root), "backup", str(out), "--no-audio", "--json"])
    assert made.exit_code == 0, made.output
    report = json.loads(made.output)
    assert report["audio"] == {"included": False, "files": 0, "bytes": 0, "left_out": 1, "outside_workspace": 0}
    manifest = _manifest(Path(report["archive"]))
    assert manifest["audio"]["left_out"] == [{"path": "workspace/audio/note.wav", "size": 104}]
    assert "workspace/audio/note.wav" not in {entry["path"] for entry in manifest["files"]}
    again = runner.invoke(app, ["--workspace", str(workspace.root), "backup", report["archive"]])
    assert again.exit_code == 2 and "already exists" in again.output
    inside = runner.invoke(app, ["--workspace", str(workspace.root), "backup", str(workspace.root / "b.tar.gz")])
    assert inside.exit_code == 2 and "inside the workspace" in inside.output

    target = tmp_path / "cli-target"
    done = runner.invoke(app, ["--workspace", str(target), "restore", report["archive"]])
    assert done.exit_code == 0, done.output
    assert "counts as in the manifest" in done.output
    refused = runner.invoke(app, ["--workspace", str(target), "restore", report["archive"]])
    assert refused.exit_code == 2 and "is not empty" in refused.output


def test_a_failed_backup_leaves_no_partial_archive(tmp_path, settings):
    settings, workspace = _workspace(tmp_path / "ws", settings)  # no catalog.db yet
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(BackupError, match="no such SQLite database"):
        create_backup(settings, workspace, out / "b.tar.gz")
    assert list(out.iterdir()) == []


def test_a_postgresql_catalog_without_pg_dump_is_a_clear_error(tmp_path, settings, monkeypatch):
    settings, workspace = _workspace(tmp_path / "ws", settings)
    settings = settings.model_copy(update={"catalog": settings.catalog.model_copy(
        update={"url": "postgresql+psycopg://u:secret@localhost/talktrack"})})
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    with pytest.raises(BackupError, match="pg_dump not found on PATH.*postgresql-client"):
        create_backup(settings, workspace, tmp_path / "b.tar.gz")


@pytest.mark.skipif(not os.environ.get("TT_TEST_CATALOG_URL", "").startswith("postgresql"),
                    reason="needs TT_TEST_CATALOG_URL=postgresql+psycopg://... (make test-postgres)")
def test_a_postgresql_catalog_round_trips_through_pg_dump(catalog, tmp_path, settings):
    from talktrack.pipelines.backup.snapshot import table_counts
    from talktrack.pipelines.crm_import import import_directory
    from tests.conftest import _empty_database

    url = os.environ["TT_TEST_CATALOG_URL"]
    settings, workspace = _workspace(tmp_path / "ws", settings)
    settings = settings.model_copy(update={"catalog": settings.catalog.model_copy(update={"url": url})})
    import_directory(catalog, settings, write_world(tmp_path / "crm"))
    with catalog.engine.connect() as connection:
        before = table_counts(connection)
    report = create_backup(settings, workspace, tmp_path / "pg.tar.gz")
    assert _manifest(report.archive)["catalog"]["counts"] == before
    with pytest.raises(RestoreError, match="not empty"):
        restore_backup(report.archive, settings, _workspace(tmp_path / "t1", settings)[1])
    catalog.dispose()
    _empty_database(url)
    target_settings, target = _workspace(tmp_path / "t2", settings)
    restored = restore_backup(report.archive, target_settings, target)
    assert restored.counts == before


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


def _rewrite(archive: Path, out: Path, changes: dict) -> Path:
    """A copy of ``archive`` with the named members' bytes changed (the manifest untouched)."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        for info in source.getmembers():
            data = source.extractfile(info).read()
            data = changes.get(info.name, lambda same: same)(data)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    verify_archive(archive)  # the original is fine
    return out


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())
