"""The evidence packet: many calls' records in one document, for a complaint or a regulator.

Pure: the store selects the calls and counts them (store/packet.py, store/stats.py); this
package lays out the document (a summary, the list of calls, then every call's record exactly
as `p2pcall export` renders it) and reads one back for `p2pcall verify`.
"""
