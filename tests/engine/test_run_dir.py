import subprocess

import pytest

from skelssl.engine import run_dir
from skelssl.engine.run_dir import git_commit


def _git(repo, *args):
    return subprocess.run(["git", "-c", "user.name=skelssl", "-c", "user.email=t@skelssl",
                           *args], cwd=repo, check=True, capture_output=True, text=True)


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "src" / "code.py").write_text("x = 1\n")
    (tmp_path / "docs" / "results.md").write_text("old\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "start")
    return tmp_path


def test_commit_is_clean_after_results_are_written_under_docs(checkout):
    head = _git(checkout, "rev-parse", "--short", "HEAD").stdout.strip()
    assert git_commit(checkout / "src") == head
    (checkout / "docs" / "results.md").write_text("new numbers\n")
    (checkout / "untracked.txt").write_text("ignored\n")
    assert git_commit(checkout / "src") == head


def test_commit_is_dirty_when_code_changed(checkout):
    (checkout / "src" / "code.py").write_text("x = 2\n")
    assert git_commit(checkout / "src").endswith("-dirty")


def test_commit_outside_a_checkout_is_unknown(tmp_path):
    assert git_commit(tmp_path) == "unknown"


def test_machine_names_cores_model_and_native_bf16(monkeypatch):
    monkeypatch.setattr(run_dir.torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(run_dir.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(run_dir, "cpu_model", lambda: "Some Xeon")
    monkeypatch.setattr(run_dir, "cpu_has_bf16", lambda: False)
    plain = run_dir.machine()
    assert plain.startswith("2-core Some Xeon (") and "bf16" not in plain
    monkeypatch.setattr(run_dir, "cpu_has_bf16", lambda: True)
    assert run_dir.machine().endswith("native bf16)")


def test_cpu_model_reads_the_model_name():
    name = run_dir.cpu_model()
    assert name and "\n" not in name
