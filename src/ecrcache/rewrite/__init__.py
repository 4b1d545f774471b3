"""Rewrite image references to pull through the cache (and back), in strings and files.

Pure: imports neither boto3, rich nor typer (only ``config`` and ``errors`` of ecrcache), so
``ecrcache rewrite`` starts without boto3. ``refs`` is the reference grammar (after
distribution/reference); ``mapping`` says where an image lives in the
cache; ``text`` rewrites one reference; ``yamlfiles`` and ``dockerfile`` find references in files
and return edits to the original text (``yamlparse`` reads YAML fast and bounded, ``yamlnodes``
reads its nodes through merge keys, ``helm`` resolves image blocks and global registries,
``unreadable`` is the error for a file that cannot be read safely); ``files`` picks files;
``output`` writes and diffs them.
"""
