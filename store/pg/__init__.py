"""The PostgreSQL store, reached through psycopg 3, imported only for a postgresql:// URL.

No state is kept on a server session between transactions, so it works behind a pooler in
transaction mode (PgBouncer).

- :mod:`.sql`: every statement sent, once.
- :mod:`.base`: the advisory lock namespaces, and a lost server as a one-line error.
- :mod:`.limits`: how long to wait for the server (connect and statement timeouts, from the URL).
- :mod:`.connection`: connections, reconnection, and server failures as one-line errors.
- :mod:`.transactions`: transactions, savepoints, and a sign-in's turn as a transaction.
- :mod:`.schema`: tables, schema version, the key check value.
- :mod:`.repository`: :class:`~.repository.PgRepository`, the storage interface on the server.
- :mod:`.audit`: the audit chain in a table, extended under a transaction-level advisory lock.
- :mod:`.unit`: one transaction's view, whose reads lock what they read.
- :mod:`.records`: the Users listing, paged and filtered in SQL.
"""
