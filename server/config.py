"""Configuration defaults for rasoat.

Every value can be overridden from the environment with the ``RASOAT_`` prefix (for example
``RASOAT_DATABASE_URL=postgresql+psycopg://…``) or, in tests, with the mapping passed to
:func:`server.create_app`.  The SQLite database and the blob store live in the Flask instance
folder unless configured otherwise.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# 20 MB is what Collect is told it may send in one request (it splits larger submissions);
# Werkzeug refuses bodies above MAX_CONTENT_LENGTH, which leaves room for multipart overhead.
DEFAULT_ACCEPT_CONTENT_LENGTH = 20_000_000


class Defaults:
    """Defaults in code; the instance folder and the environment override them."""

    # A database URL; empty means SQLite in the instance folder (see create_app).
    DATABASE_URL = ""
    # Where attachments and form media are written; empty means <instance>/blobs.
    BLOB_DIR = ""
    # Absolute URL under which phones reach this server, e.g. "https://rasoat.example.vn/ra-soat".
    # Empty: derive it from each request (Host header, or X-Forwarded-* from TRUSTED_PROXIES).
    EXTERNAL_URL = ""
    # Addresses or networks of the reverse proxies in front of the server (a list, or from the
    # environment a comma-separated string: "127.0.0.1, 10.0.0.0/24").  X-Forwarded-For/-Proto/
    # -Host/-Port/-Prefix are honoured only on a connection from one of them and removed from
    # every other request: anyone can send these headers, and trusting them would let a client
    # claim https (Basic over plain http) or another address (the login throttle).  Empty: none.
    TRUSTED_PROXIES = ""
    # Size limits.
    OPENROSA_ACCEPT_CONTENT_LENGTH = DEFAULT_ACCEPT_CONTENT_LENGTH
    MAX_CONTENT_LENGTH = DEFAULT_ACCEPT_CONTENT_LENGTH + 1_000_000
    MAX_SUBMISSION_XML_BYTES = 10_000_000
    # Elements and nesting of one submission, counted while parsing (server/xmlsafe.py).  The
    # largest shipped questionnaire, Phiếu B, has about 190 elements plus 34 per member (forms/
    # phieu_b_2027.xml); a household of 30 members is about 1 200 elements and 4 levels deep.
    # 20 000 elements leave a 16x margin over that (a 500-member household would still fit) and
    # room for uploaded forms with bigger repeats, while a hostile 1 M-element body is refused
    # after reading its first 20 000 (milliseconds) instead of being stored and shown as a
    # 113 MB page.  32 levels: XLSForm groups inside repeats rarely pass 6.
    MAX_SUBMISSION_ELEMENTS = 20_000
    MAX_SUBMISSION_DEPTH = 32
    MAX_FORM_XML_BYTES = 20_000_000
    # Uploaded workbooks (XLSForms, B1 tables) are checked before openpyxl or pyxform reads
    # them (server/documents/spreadsheets.py).  Sized from the forms in xlsforms/ with a wide
    # margin: the largest (phieu_b_2027.xlsx) has 11 zip entries, 189 KB unzipped, 208 rows on
    # one sheet, 1,772 cells in all and a compression ratio of 5.5:1.  The bounds below are
    # ~18x, ~105x, ~95x and ~110x that; 20,000 rows still hold a choices sheet listing every
    # commune of Viet Nam (~10,600).  The ratio applies to entries over 1 MB unzipped.
    MAX_XLSFORM_ZIP_ENTRIES = 200
    MAX_XLSFORM_UNZIPPED_BYTES = 20_000_000
    MAX_XLSFORM_COMPRESSION_RATIO = 200
    MAX_XLSFORM_ROWS = 20_000
    MAX_XLSFORM_CELLS = 200_000
    # A commune's household list uploaded on the web (server/households/imports.py): a commune
    # has a few thousand households (20,000 rows is ~5x the largest); a 20,000-row XLSX of the
    # template is ~700 KB, its CSV ~1.5 MB.  The workbook is checked (zip entries, unzipped
    # bytes, ratio, rows, cells) with the same code as XLSForms before openpyxl reads it.
    HOUSEHOLD_IMPORT_MAX_BYTES = 5_000_000
    HOUSEHOLD_IMPORT_MAX_ROWS = 20_000  # data rows, the header not counted
    HOUSEHOLD_IMPORT_MAX_CELL_CHARS = 500
    MAX_HOUSEHOLD_IMPORT_ZIP_ENTRIES = 100
    MAX_HOUSEHOLD_IMPORT_UNZIPPED_BYTES = 30_000_000
    MAX_HOUSEHOLD_IMPORT_COMPRESSION_RATIO = 200
    MAX_HOUSEHOLD_IMPORT_ROWS = 20_050  # per worksheet: header and a few blank rows more
    MAX_HOUSEHOLD_IMPORT_CELLS = 400_000
    # How long an uploaded list waits for its "Xác nhận nhập" before it is deleted.
    HOUSEHOLD_IMPORT_TTL_MINUTES = 120
    # pyxform and ODK Validate run in a child process group that is killed after this many
    # seconds (and whenever the request ends).  The largest real form compiles and validates in
    # ~1 s; 60 s stays well under gunicorn's worker timeout (120 s in scripts/demo), so the
    # worker answers a clear 422 instead of being killed.
    XLSFORM_COMPILE_SECONDS = 60
    # Address space of the pyxform child (RLIMIT_AS), and the heap given to the ODK Validate
    # JVM with -Xmx (a JVM cannot run under RLIMIT_AS: it reserves address space up front).
    # The largest real form compiles within a 100 MB address space (not within 60 MB) and
    # validates with an 8 MB heap: 1024 MB and 512 MB leave a wide margin for bigger forms.
    XLSFORM_COMPILE_MEMORY_MB = 1024
    XLSFORM_VALIDATOR_HEAP_MB = 512
    # HTTP authentication for devices.
    AUTH_REALM = "rasoat"
    # How long a Digest nonce may be used (from its issue).  Each use must raise its nonce count,
    # recorded in the database, so a captured Authorization header is refused when sent again;
    # the lifetime bounds how long the server keeps a nonce.  Five minutes cover a submission
    # (HEAD then POSTs, each re-sent with the same nonce); after it the phone gets "stale" and
    # answers the fresh challenge by itself, one extra round trip, without asking the user.
    DIGEST_NONCE_SECONDS = 300
    # Expired nonces deleted (at most) each time a nonce is issued: more than one, so the table
    # shrinks even while challenges are frequent, few enough to keep a 401 cheap.
    DIGEST_NONCE_PURGE_BATCH = 100
    # Whether Basic authentication may be used over plain http (never true in production: Collect
    # will not send Basic over http anyway, and the password would travel in clear text).
    ALLOW_BASIC_OVER_HTTP = False
    # Argon2 parameters (argon2-cffi defaults are sized for interactive logins).
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_COST = 65536
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Staff web sessions (the login cookie).  Cookies are marked Secure (sent over https only) on
    # every response to an https request, whatever these say; and on every response at all when
    # SECURE_COOKIES is true, or, left empty, when EXTERNAL_URL starts with "https://".
    SECURE_COOKIES = None
    # A login lasts this long after it was last used (one working day); each login is a row of
    # staff_sessions that logout, a password change, deactivation or a role change revokes.
    SESSION_LIFETIME_HOURS = 8
    # A session's last use is written at most this often: a page view costs no database write,
    # and a minute is nothing against an 8-hour lifetime.
    SESSION_TOUCH_SECONDS = 60
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Web login throttling: this many failed logins for one username (or from one IP address)
    # within the window lock that username (or address) out for LOGIN_LOCKOUT_SECONDS.
    LOGIN_MAX_FAILURES_PER_USER = 5
    LOGIN_MAX_FAILURES_PER_IP = 20
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
    LOGIN_LOCKOUT_SECONDS = 15 * 60
    # Strict-Transport-Security max-age, sent on https responses only: one year, the figure
    # browsers' HSTS preload lists ask for; a server once reached over https stays on https.
    # No includeSubDomains: other services of the province's domain are not ours to decide.
    HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600
    # POST /api/v1/score takes no account, so every request is bounded (server/scoring/schemas.py,
    # server/scoring/routes.py).  Households: Phiếu B's largest plausible household has about 30
    # members (the census's largest are ~20); 60 is twice that.  A fully filled 60-member request
    # is about 25 KB of JSON, so 64 KB of body leaves room for long names and every B1 answer.
    # Lists (information devices, B1 multi-answers) have fewer than 20 options in any table;
    # a B1 table has about 10-20 items; coded answers and names are short.
    SCORE_MAX_BODY_BYTES = 64_000
    SCORE_MAX_MEMBERS = 60
    SCORE_MAX_LIST_ITEMS = 50
    SCORE_MAX_B1_ANSWERS = 100
    SCORE_MAX_STRING_LENGTH = 200
    # Requests per client address per window (counted in the database, shared by every worker
    # and node: server/ratelimit).  A self-assessment app sends a few per user; 120 a minute
    # from one address (an office behind NAT, a batch caller) is still ~2/s, while a caller
    # cannot keep both sync workers busy for long.
    SCORE_RATE_LIMIT = 120
    SCORE_RATE_WINDOW_SECONDS = 60
    # The household map's background (server/maps/tiles.py): a tile URL template such as
    # "https://{s}.tile.example.org/{z}/{x}/{y}.png", the attribution the provider asks for
    # (shown on the map; HTML allowed) and {s}'s subdomains.  Empty: no tiles, the map is a
    # plain coordinate plot and the browser fetches nothing from elsewhere.
    MAP_TILE_URL = ""
    MAP_TILE_ATTRIBUTION = ""
    MAP_TILE_SUBDOMAINS = "abc"
    MAP_TILE_MAX_ZOOM = 19
    # Access records (server/access): every look at a household's personal data is queued in
    # the process and written in batches — "background" (a thread: every ACCESS_RECORDS_SECONDS
    # or ACCESS_RECORDS_BATCH rows, and at exit), "request" (at the end of each request: the
    # default when TESTING) or "off".  A failed write keeps at most ACCESS_RECORDS_MAX_BUFFER
    # rows for the next try (a 5,000-household export is 5,000 rows).
    ACCESS_RECORDS = ""
    ACCESS_RECORDS_BATCH = 500
    ACCESS_RECORDS_SECONDS = 2.0
    ACCESS_RECORDS_MAX_BUFFER = 200_000
    # The access log lists as unusual an account's day with more distinct households read
    # (a commune officer reviews at most a few hundred a day; a whole commune's lists are up to
    # a few thousand) or more communes exported (files or the API) than these.
    ACCESS_UNUSUAL_HOUSEHOLDS_PER_DAY = 2_000
    ACCESS_UNUSUAL_COMMUNES_PER_DAY = 3


def load_secret_key(instance_path: Path) -> str:
    """Return the instance's secret key, creating it on first use.

    The key signs Digest nonces (and later session cookies); it is kept in the instance folder,
    readable only by the server's user, so restarts keep outstanding nonces valid.
    """
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first
        return key_file.read_text().strip()
    try:
        os.write(fd, key.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def flag(value) -> bool | None:
    """A yes/no setting from the environment (``true``/``1``/``yes``…); empty means unset."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
