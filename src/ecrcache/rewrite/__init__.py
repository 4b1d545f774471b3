"""Rewrite image references to pull through the cache (and back), in strings and files.

Pure: imports neither boto3, rich nor typer (only ``config`` and ``errors`` of ecrcache), so
``ecrcache rewrite`` starts without boto3. ``refs`` is the reference grammar (after
distribution/reference); ``mapping`` says where an image lives in the
cache; ``text`` rewrites one reference; ``yamlfiles`` and ``dockerfile`` find references in files
and return edits to the original text; ``files`` picks files; ``output`` writes and diffs them.
"""
