"""Node and Go for the SDK tests: found, or the test fails under CI and is skipped elsewhere.

CI (CI=true) installs both (.ci/run), so a missing tool there is a broken set-up, never a
reason to skip (the rule is tests/required_tools.py's). `tool_env` pins Go to what these
machines have: no module proxy, modules from go.mod's replace lines (Debian's Go libraries).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from required_tools import missing, require_tool

REPO = Path(__file__).resolve().parent.parent
SDK = REPO / "sdk"
JS_SDK = SDK / "js"
GO_SDK = SDK / "go"
ECP_BIN = str(Path(sys.executable).parent / "ecp")
__all__ = ["GO_SDK", "JS_SDK", "REPO", "require_js_dependencies", "require_tool", "tool_env"]


def require_js_dependencies() -> None:
    if not (JS_SDK / "node_modules" / "ws").is_dir():
        missing("sdk/js/node_modules is missing (run `npm ci` in sdk/js)")


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for node/go children: no ECP_* from the shell, our `ecp`, Go offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECP_")}
    env.update(
        ECP_BIN=ECP_BIN,
        GOFLAGS="-mod=mod",
        GOPROXY="off",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        **extra,
    )
    return env
