"""The API token never leaks: not into a log record, not into an exception's message, and not
to any host but the API's.

This test runs last (see ``pytest_collection_modifyitems`` in conftest.py) and reads the
evidence the whole session collected: every log record of every logger at DEBUG, ``str``
and ``repr`` of every SDK exception as it was created and of every exception a test caught
(with its chained causes), what the sandbox servers received (route, whether the request
carried the token, the answer's status), and what respx answered.
"""

from __future__ import annotations

import pytest

from ._support import EVIDENCE, TOKEN


@pytest.mark.hygiene
def test_the_token_never_leaks() -> None:
    if EVIDENCE.matrix_tests_run == 0:
        pytest.skip("this test reads the evidence of the fault matrix: run it with the suite")

    leaks = [(where, text[:300]) for where, text in EVIDENCE.texts if TOKEN in text]
    assert not leaks, f"{len(leaks)} leak(s) of the API token; first ones: {leaks[:5]}"

    # The evidence is real: the matrix logged, raised and caught plenty.
    assert EVIDENCE.log_records > 1000
    assert EVIDENCE.sdk_exceptions > 100
    assert EVIDENCE.caught_exceptions > 100

    # The file host never saw the token, and so never had to refuse a download for it (the
    # sandbox answers 400 to a download that carries Auth-Api-Token or Authorization).
    downloads = [(carried, status) for route, carried, status in EVIDENCE.server_requests
                 if route == "download"]
    assert len(downloads) > 100
    assert not any(carried for carried, _ in downloads)
    assert not any(status == 400 for _, status in downloads)

    # The control: the API routes did get it (so the check above can see a token).
    api = [carried for route, carried, _ in EVIDENCE.server_requests if route != "download"]
    assert api
    assert sum(api) > 0.9 * len(api)

    # respx: only the API hosts were sent the token.
    assert EVIDENCE.respx_requests
    elsewhere = [host for host, carried in EVIDENCE.respx_requests
                 if carried and host not in ("api.lexer.test", "clients.lexer.test")]
    assert not elsewhere, elsewhere
    assert any(host == "files.lexer.test" for host, _ in EVIDENCE.respx_requests)
