"""p2pcall: contemporaneous notes for insurer peer-to-peer calls."""

__version__ = "0.1.0"
