"""The practice's PostgreSQL server: its schema, roles and upgrades (`p2pcall db init/upgrade`).

Self-contained: nothing here imports the SQLite store, and nothing imports psycopg at import
time (it is the optional extra `p2pcall[postgres]`). The app does not run its calls on the
server yet; this is the schema it will write to.
"""
