"""The PostgreSQL store (PRODUCT §8), reached through psycopg 3, imported only for a postgresql:// URL.

- :mod:`.sql`: every statement sent, once, for both ways of talking to the server.
- :mod:`.connection`: connections, reconnection, and server failures as one-line errors.
- :mod:`.schema`: tables, schema version, the key check value.
- :mod:`.repository`: :class:`~.repository.PgRepository`, the storage interface on the server.
- :mod:`.audit`: the audit chain in a table, extended under a transaction-level advisory lock.
- :mod:`.reads`: the lock-free reads both sides make the same way.
- :mod:`.records`: the Users listing, paged and filtered in SQL.
"""
