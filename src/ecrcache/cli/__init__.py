"""The Typer command layer: parse, call one core function, render. Nothing else lives here."""
