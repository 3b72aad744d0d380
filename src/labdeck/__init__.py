"""labdeck: a keyboard-first terminal study app for an NLP / generative-AI exam."""

__version__ = "0.1.0"
