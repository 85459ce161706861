"""The pure domain core: no Textual, no database session.

Keep this package cheap to import: pendulum is imported inside the functions that need
it, because the TUI's first frame must not wait for it.
"""
