"""Every tunable number of the SDK, in one place.

Anyone tuning behaviour finds all of it here: the hosts, the rate window, the retry and
backoff schedule, the export poll schedule and the download chunking.
"""

from __future__ import annotations

import httpx

DEFAULT_BASE_URL = "https://api.lexer.io"
# The status endpoint lives on a different host from the rest of the API (api-notes).
DEFAULT_STATUS_URL = "https://clients.lexer.io/api/public/v1/activity/reports/status"
TOKEN_ENV_VAR = "LEXER_API_TOKEN"
BASE_URL_ENV_VAR = "LEXER_BASE_URL"
STATUS_URL_ENV_VAR = "LEXER_STATUS_URL"

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2

# The documented limit: 100 requests per 5 minutes per API token.
DEFAULT_RATE_LIMIT: tuple[int, float] = (100, 300.0)
# A request's place in the window is held this fraction of the window (and at least
# RATE_WINDOW_MIN_MARGIN seconds) longer than one window after its answer, so that a
# difference between our clock and the server's cannot squeeze N + 1 requests into one of
# the server's windows.
RATE_WINDOW_MARGIN = 0.01
RATE_WINDOW_MIN_MARGIN = 0.02

# Backoff before retry k (k = 0, 1, ...): min(BACKOFF_MAX, BACKOFF_INITIAL * 2**k) scaled by a
# random factor in [1 - BACKOFF_JITTER, 1].
BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 8.0
BACKOFF_JITTER = 0.5

# Export polling: the first poll after `poll_interval`, then each interval times POLL_GROWTH,
# never more than POLL_MAX_INTERVAL.
DEFAULT_EXPORT_TIMEOUT = 600.0
DEFAULT_POLL_INTERVAL = 1.0
POLL_GROWTH = 1.5
POLL_MAX_INTERVAL = 30.0

# Writes are batched to this size before they leave the event loop; see _download.py.
DOWNLOAD_WRITE_BATCH = 1 << 20
# A gzip body is decoded in pieces of at most this many bytes, so a chunk that inflates 1000x
# cannot spike memory.
DOWNLOAD_DECODE_LIMIT = 1 << 20
# The MD5 check of a download runs in a worker thread fed with batches of this size; when
# DOWNLOAD_HASH_BACKLOG batches are waiting for it, the download waits for the hash.
DOWNLOAD_HASH_BATCH = 1 << 20
DOWNLOAD_HASH_BACKLOG = 4

# How much of a bad answer's body an exception message quotes.
BODY_EXCERPT_CHARS = 200
