"""The store's reads as plain SQL over a DB-API connection: one place owns each query.

Each module holds the SQL text of its reads and the functions that run them on a
`sqlite3.Connection` (inside a transaction the caller opened: `ReadApi.reading()` for a
read, the ORM session's own connection inside a write) and map the rows to domain objects
with `store.rows`. The app's `Store` and the read-only commands' `Reader` both call these:
no read exists once in SQLAlchemy and again in SQL. Standard library and the domain only.
"""
