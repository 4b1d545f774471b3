"""Rewrite image references to pull through the cache (and back), in strings and files.

Pure: imports neither boto3, rich nor typer. ``mapping`` says where an image lives in the
cache; ``text`` rewrites one reference; ``yamlfiles`` and ``dockerfile`` find references in files
and return edits to the original text; ``files`` picks files; ``output`` writes and diffs them.
"""
