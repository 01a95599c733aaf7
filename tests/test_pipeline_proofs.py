"""Stat proofs (compiler/pipeline/proofs.py) on a real workspace: a full compile trusts a file
that stats as an earlier compile proved it, never a racy one, and never proofs made under another
salt; a broken proofs file only costs the hashing.

The tests show the proof was used by the one thing a proof skips: reading the file. A manifest
edited in place to the same size, with its mtime put back, stats exactly as before; a compile
that trusts the proof leaves the edit, one that reads the file repairs it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import shipped_tenants

from compiler.pipeline import compile_workspace
from compiler.pipeline.proofs import PROOFS_FILE
from compiler.settings import Settings

TENANT = "shop-chat-lite"


def _compiled(settings: Settings) -> Path:
    report = compile_workspace(settings)
    assert report.ok, report.to_dict()
    return settings.cache_dir / PROOFS_FILE


def _edit_keeping_stat(manifest: Path) -> bytes:
    """Swap two bytes of the manifest in place and put its mtime back: same inode, size, mtime."""
    before = manifest.stat()
    data = bytearray(manifest.read_bytes())
    at = data.index(b"kind: ")
    data[at : at + 6] = b"KIND: "
    with manifest.open("r+b") as handle:  # in place: the inode stays
        handle.write(data)
    os.utime(manifest, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = manifest.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    return bytes(data)


def _make_not_racy(proofs: Path, manifest: Path) -> None:
    """The proofs file a minute newer than the tenant's output: its proof is trusted."""
    mtime = manifest.stat().st_mtime_ns + 60_000_000_000
    os.utime(proofs, ns=(mtime, mtime))


def test_a_full_compile_leaves_a_proof_for_every_tenant(settings: Settings) -> None:
    proofs = _compiled(settings)
    data = json.loads(proofs.read_text(encoding="utf-8"))
    assert sorted(data["tenants"]) == shipped_tenants()
    index = json.loads((settings.output_dir / "index.json").read_text(encoding="utf-8"))
    row = data["tenants"][TENANT]
    manifest = (settings.output_dir / TENANT / "manifest.yaml").stat()
    assert row[3:6] == [manifest.st_ino, manifest.st_size, manifest.st_mtime_ns]
    assert row[9:] == [
        index["tenants"][TENANT]["input_hash"],
        index["tenants"][TENANT]["manifest_sha256"],
    ]


def test_a_file_that_stats_as_proved_is_not_read_again(settings: Settings) -> None:
    proofs = _compiled(settings)
    manifest = settings.output_dir / TENANT / "manifest.yaml"
    edited = _edit_keeping_stat(manifest)
    _make_not_racy(proofs, manifest)

    report = compile_workspace(settings)

    assert {r.status for r in report.results} == {"unchanged"}
    assert manifest.read_bytes() == edited  # the proof stood in for reading it


def test_a_file_as_new_as_the_proofs_file_is_read_and_repaired(settings: Settings) -> None:
    proofs = _compiled(settings)
    manifest = settings.output_dir / TENANT / "manifest.yaml"
    original = manifest.read_bytes()
    _edit_keeping_stat(manifest)
    # The newest of the tenant's three files as new as the proofs file (one clock tick): racy.
    files = (
        settings.tenants_dir / f"{TENANT}.yaml",
        manifest,
        manifest.with_name("kustomization.yaml"),
    )
    mtime = max(f.stat().st_mtime_ns for f in files)
    os.utime(proofs, ns=(mtime, mtime))

    report = compile_workspace(settings)

    assert {r.tenant_id: r.status for r in report.results}[TENANT] == "compiled"
    assert manifest.read_bytes() == original


def test_proofs_made_under_another_salt_are_not_used(settings: Settings) -> None:
    proofs = _compiled(settings)
    data = json.loads(proofs.read_text(encoding="utf-8"))
    data["salt"] = "0" * 64  # as if presets/ or the compiler had changed since
    proofs.write_text(json.dumps(data), encoding="utf-8")
    manifest = settings.output_dir / TENANT / "manifest.yaml"
    original = manifest.read_bytes()
    _edit_keeping_stat(manifest)
    _make_not_racy(proofs, manifest)

    compile_workspace(settings)

    assert manifest.read_bytes() == original


def test_check_reads_the_files_whatever_the_proofs_say(settings: Settings) -> None:
    proofs = _compiled(settings)
    manifest = settings.output_dir / TENANT / "manifest.yaml"
    _edit_keeping_stat(manifest)
    _make_not_racy(proofs, manifest)

    report = compile_workspace(settings, check=True)

    assert {r.tenant_id: r.status for r in report.results}[TENANT] == "stale"


def test_a_broken_proofs_file_is_replaced_and_changes_no_output(settings: Settings) -> None:
    proofs = _compiled(settings)
    before = {p: p.read_bytes() for p in sorted(settings.output_dir.rglob("*")) if p.is_file()}
    proofs.write_text('{"version": 1, "salt": [', encoding="utf-8")

    report = compile_workspace(settings)

    assert {r.status for r in report.results} == {"unchanged"}
    after = {p: p.read_bytes() for p in sorted(settings.output_dir.rglob("*")) if p.is_file()}
    assert after == before
    assert sorted(json.loads(proofs.read_text(encoding="utf-8"))["tenants"]) == shipped_tenants()
