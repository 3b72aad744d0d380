"""Answer grading: embedders, signals, calibration, caches and the grade commands."""
