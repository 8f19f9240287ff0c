"""The vocabulary at the bottom of modeld's import graph.

What every part (ingest, library, links, hub, watch) must name and check the
same way: which file names are weights or companions (`filenames`), the
library's safe names (`naming`), content hashes (`hashing`), path containment
(`paths`), the mount table (`mounts`), and the small careful I/O they rest
on: capped reads of files that may be hostile (`reads`), atomic writes
(`atomic`).

Nothing here imports anything else from modeld but `modeld.errors` (the
base error, itself a leaf), so any part may import it without reaching into
another part's internals (tests/test_import_graph.py checks both).
"""
