"""Exports to other programs: Anki packages (.apkg) and Anki-style CSV."""
