"""The installed script: without the cli extra it says what to install, not a traceback."""

from __future__ import annotations

import subprocess
import sys

BLOCK_CLICK = (
    "import sys; sys.modules['click'] = None; sys.argv = ['lexer-activity', 'users']; "
    "from lexer_activity.cli import main; main()"
)


def test_missing_extra_is_explained() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_CLICK], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "pip install 'lexer-activity[cli]'" in result.stderr
    assert "Traceback" not in result.stderr
