"""The daemon, by concept: `app` (the process, and its components started and
stopped on an ExitStack), `intake` (settled files and `import` requests →
units → queues), `status` (counters, errors, the status document), `jobs`
(scheduled work). Imported only by `modeld run`: the other commands stay light.
"""
