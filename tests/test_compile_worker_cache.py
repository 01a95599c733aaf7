"""The compile worker reuses its loaded compiler while settings and presets/ are unchanged, and
loads it again when a preset file changes (a price edit must reach the next write's output)."""

from __future__ import annotations

import os
from pathlib import Path

from compiler.service import compile_worker
from compiler.settings import Settings


def test_the_loaded_compiler_is_reused_until_a_preset_changes(workspace: Path) -> None:
    settings = Settings(root=workspace)
    first = compile_worker._workspace(settings)
    assert compile_worker._workspace(settings) is first
    assert compile_worker._workspace(settings.model_copy(update={"redis_url": None})) is first

    preset = settings.presets_dir / "prices.yaml"
    text = preset.read_text("utf-8")
    preset.write_text(text + "\n# edited\n", encoding="utf-8")
    stat = preset.stat()
    os.utime(preset, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = compile_worker._workspace(settings)
    assert again is not first

    other = compile_worker._workspace(settings.model_copy(update={"kubernetes_version": "1.32"}))
    assert other is not again
