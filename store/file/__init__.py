"""The embedded file store: the database file and its layout, the lock and atomic writes, the
checks on files and folders others could touch, and the repository the services reach through
:mod:`store.storage`."""
