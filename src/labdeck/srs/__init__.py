"""Spaced repetition: the SM-2 step function (``sm2``), today's queue, answers, undo and stats
(``scheduler``), and the ``due`` / ``next`` / ``answer`` / ``undo`` / ``suspend`` / ``bury``
commands (``commands``). Importing this package is cheap: the CLI imports ``commands`` at start.
"""
