"""`lexer-activity sandbox`: serves until Ctrl-C, prints how to use it, exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

from lexer_activity.cli._app import Settings
from lexer_activity.cli._sandbox import usage_lines

SCRIPT = "from lexer_activity.cli import main; main()"


def test_sandbox_serves_until_ctrl_c() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEXER_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "sandbox", "--port", "0", "--token", "tok-a",
         "--token", "tok-b", "--export-delay", "0.1", "--rate-limit", "3", "--rate-window", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C stops it."):
                break
        fields = dict(line.split(": ", 1) for line in lines if line.startswith(("base url:", "status url:")))
        base_url = fields["base url"].strip()
        assert fields["status url"].strip().startswith(base_url + "/")
        assert "token:      tok-a" in lines
        assert "token:      tok-b" in lines
        assert any(line.startswith("  export LEXER_BASE_URL=") for line in lines)
        assert any("lexer-activity --base-url" in line for line in lines)

        answer = httpx.get(f"{base_url}/v1/groups", headers={"Auth-Api-Token": "tok-b"})
        assert answer.status_code == 200
        # --rate-limit 3 --rate-window 60: the fourth request in the window is refused.
        statuses = [
            httpx.get(f"{base_url}/v1/groups", headers={"Auth-Api-Token": "tok-b"}).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "sandbox: stopped" in out


def test_sandbox_rejects_a_port_out_of_range() -> None:
    from click.testing import CliRunner

    from lexer_activity.cli import cli

    result = CliRunner().invoke(cli, ["sandbox", "--port", "99999"])
    assert result.exit_code == 2
    assert "99999" in result.output


def test_usage_lines_are_copy_pasteable() -> None:
    lines = usage_lines("http://127.0.0.1:8787", ("sandbox-token",))
    assert (
        "  export LEXER_BASE_URL=http://127.0.0.1:8787 LEXER_STATUS_URL="
        "http://127.0.0.1:8787/api/public/v1/activity/reports/status "
        "LEXER_API_TOKEN=sandbox-token"
    ) in lines


def test_settings_redact_long_tokens_only() -> None:
    secret = Settings(token="0f8e7d6c-secret", base_url="", status_url="", debug=False)
    assert secret.redact("bad 0f8e7d6c-secret here") == "bad <hidden> here"
    assert "0f8e7d6c-secret" not in repr(secret)
    short = Settings(token="x", base_url="", status_url="", debug=False)
    assert short.redact("expected") == "expected"
