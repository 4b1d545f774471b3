"""Terminal output: rich consoles, plans, progress bars, and one renderer per command family.

With ``cli/`` the only place that imports rich. Renderers take the result objects the commands
return (and a file handle, so tests render into a string); JSON goes out through ``result``,
never through rich. May import every part below ``cli``.
"""
