"""Every statement the PostgreSQL store sends, written once.

Parameters are psycopg's ``%s`` placeholders; documents go to the server as JSON text cast to
jsonb. The tables themselves are in :mod:`.schema`.
"""

from __future__ import annotations

# -- transactions ------------------------------------------------------------------------------
BEGIN = "BEGIN"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"
SAVEPOINT = "SAVEPOINT twofold_nested"
ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO SAVEPOINT twofold_nested"
RELEASE_SAVEPOINT = "RELEASE SAVEPOINT twofold_nested"



def begin(statement_ms: int) -> str:
    """BEGIN, and the statement timeout for this transaction only (one round trip: statements
    without parameters go as one simple query). ``SET LOCAL`` keeps nothing on the server's session
    after the transaction, so the next one may run on another (behind a pooler)."""
    return f"BEGIN; SET LOCAL statement_timeout = {int(statement_ms)}"


def statement_timeout(statement_ms: int) -> str:
    """The statement timeout for the rest of the transaction."""
    return f"SET LOCAL statement_timeout = {int(statement_ms)}"


NO_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = 0"
"""For the rest of the transaction: whole-database work (``db copy``, reading the audit chain)."""


def begin_turn(wait_ms: int, statement_ms: int) -> str:
    """BEGIN for a sign-in's turn: no lock waited for longer than ``wait_ms``, and the statement
    that takes the turn may wait that long (:data:`TAKE_TURN` then sets ``statement_ms``)."""
    return (
        f"BEGIN; SET LOCAL lock_timeout = {int(wait_ms)}; "
        f"SET LOCAL statement_timeout = {int(wait_ms) + int(statement_ms)}"
    )


# -- advisory locks (the namespaces are in :mod:`.base`) ---------------------------------------
TAKE_TURN = "SELECT pg_advisory_xact_lock(%s::integer, %s::integer), set_config('statement_timeout', %s, true)"
"""``(namespace, key, statement timeout as text)``: a sign-in's turn, held until its transaction
ends, and from the next statement on the usual statement timeout (this one keeps the timeout it
started with, :func:`begin_turn`'s)."""
XACT_LOCK = "SELECT pg_advisory_xact_lock(%s, %s)"
"""``(namespace, key)``: held until the transaction ends."""
XACT_LOCK_ALL = "SELECT pg_advisory_xact_lock(%s, 0)"
"""``(namespace,)``: the one lock of a namespace (the roster, the audit chain, the schema)."""

# -- twofold_meta ------------------------------------------------------------------------------
META_EXISTS = "SELECT to_regclass('twofold_meta') IS NOT NULL"
TABLE_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"
SCHEMA_DOC = "SELECT doc FROM twofold_meta WHERE key = 'schema'"
AUDIT_HEAD = "SELECT doc FROM twofold_meta WHERE key = 'audit'"
PUT_AUDIT_HEAD = "UPDATE twofold_meta SET doc = %s::jsonb WHERE key = 'audit'"
FIRST_META = "INSERT INTO twofold_meta (key, doc) VALUES ('schema', %s), ('audit', %s)"
"""``(schema document, audit head)`` of a database just created."""
PUT_SCHEMA_DOC = "UPDATE twofold_meta SET doc = %s WHERE key = 'schema'"
PUT_SCHEMA_VERSION = "UPDATE twofold_meta SET doc = jsonb_set(doc, '{schema}', %s) WHERE key = 'schema'"

# -- accounts ----------------------------------------------------------------------------------
ACCOUNT = "SELECT doc FROM twofold_accounts WHERE username = %s"
ACCOUNT_LOCKED = ACCOUNT + " FOR UPDATE"
PUT_ACCOUNT = (
    "INSERT INTO twofold_accounts (username, doc) VALUES (%s, %s::jsonb) "
    "ON CONFLICT (username) DO UPDATE SET doc = EXCLUDED.doc"
)
DELETE_ACCOUNT = "DELETE FROM twofold_accounts WHERE username = %s"
ACCOUNTS = "SELECT username, doc FROM twofold_accounts ORDER BY username"
ACCOUNT_COUNT = "SELECT count(*) FROM twofold_accounts"
NAMES = "SELECT username FROM twofold_accounts ORDER BY username"
NAMES_LIKE = "SELECT username FROM twofold_accounts WHERE username LIKE %s ORDER BY username"
NAMES_JOINED = (
    "SELECT count(*), string_agg(username, E'\\n') FROM "
    "(SELECT username FROM twofold_accounts ORDER BY username) AS names"
)
"""Every name, as one text of lines (with their number): the server joins them, and 100,000 names
arrive as one value instead of 100,000 rows, each a Python object made while the console waits."""
NAMES_LIKE_JOINED = (
    "SELECT count(*), string_agg(username, E'\\n') FROM "
    "(SELECT username FROM twofold_accounts WHERE username LIKE %s ORDER BY username) AS names"
)
ACCOUNTS_BETWEEN = "SELECT username, doc FROM twofold_accounts WHERE username BETWEEN %s AND %s"
FACTS = (
    "SELECT string_agg(concat_ws(' ', two_factor, "
    "CASE WHEN jsonb_typeof(doc->'perms') = 'array' AND doc->'perms' ? 'UserManagement' THEN 'm' ELSE '-' END, "
    "CASE WHEN jsonb_typeof(doc->'due') = 'number' THEN doc->>'due' ELSE '-' END, username), E'\\n') "
    "FROM twofold_accounts"
)
FACTS_LIKE = FACTS + " WHERE username LIKE %s"
"""Every account's standing facts as one text of lines ``two_factor m|- due|- name``, in no order."""

# -- throttle records of names (ghosts) --------------------------------------------------------
GHOST = "SELECT doc FROM twofold_ghosts WHERE tag = %s"
GHOST_LOCKED = GHOST + " FOR UPDATE"
PUT_GHOST = "INSERT INTO twofold_ghosts (tag, doc) VALUES (%s, %s::jsonb) ON CONFLICT (tag) DO UPDATE SET doc = EXCLUDED.doc"
PRUNE_GHOSTS = (
    "WITH held AS (SELECT count(*) AS n FROM twofold_ghosts) "
    "DELETE FROM twofold_ghosts WHERE tag IN "
    "(SELECT tag FROM twofold_ghosts, held WHERE held.n > %s ORDER BY seen, tag"
    " LIMIT greatest((SELECT n FROM held) - %s, 0) FOR UPDATE OF twofold_ghosts SKIP LOCKED)"
)
"""Beyond ``most`` records, the least recently failed down to ``keep``. Records another
transaction holds are left for a later prune: no waiting, no deadlock."""
GHOSTS = "SELECT tag, doc FROM twofold_ghosts ORDER BY tag"

# -- settings ----------------------------------------------------------------------------------
SETTING = "SELECT doc FROM twofold_settings WHERE key = %s"
PUT_SETTING = "INSERT INTO twofold_settings (key, doc) VALUES (%s, %s::jsonb) ON CONFLICT (key) DO UPDATE SET doc = EXCLUDED.doc"
ALL_SETTINGS = "SELECT key, doc FROM twofold_settings ORDER BY key"

# -- the audit log -----------------------------------------------------------------------------
PUT_EVENT = "INSERT INTO twofold_audit (seq, time, actor, target, line, mac) VALUES (%s, %s, %s, %s, %s, %s)"
EVENTS_AT_ONCE = 1000
"""The most events :func:`put_events_and_head` writes (six parameters each; a statement takes at
most 65,535)."""


def put_events_and_head(count: int) -> str:
    """``count`` events ``(seq, time, actor, target, line, mac)``, then the new audit head, written
    by one statement (one round trip: the audit lock and the head's read stay separate, see
    :func:`.audit.append`)."""
    if not 0 < count <= EVENTS_AT_ONCE:
        raise ValueError(f"{count} events in one statement")
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * count)
    return f"WITH put AS ({PUT_EVENT.split(' VALUES ')[0]} VALUES {rows}) {PUT_AUDIT_HEAD}"


EVENT_LINES = "SELECT line FROM twofold_audit ORDER BY seq"
"""The line of every committed event, oldest first."""
LINES = "SELECT seq, line, mac FROM twofold_audit ORDER BY seq"
"""``(seq, line, mac)`` of every committed event, oldest first."""
ABOUT = (
    "SELECT a.seq, a.line, t.total FROM (SELECT coalesce(max(seq), 0) AS total FROM twofold_audit) t "
    "LEFT JOIN twofold_audit a ON a.target = %s ORDER BY a.seq"
)
"""``(seq, line, events committed)`` of each event about one target (a sign-in's notices); one
row of NULLs and the count when there is none."""

# -- db copy -----------------------------------------------------------------------------------
COPY_ACCOUNTS = "COPY twofold_accounts (username, doc) FROM STDIN"
COPY_GHOSTS = "COPY twofold_ghosts (tag, doc) FROM STDIN"
COPY_SETTINGS = "COPY twofold_settings (key, doc) FROM STDIN"
