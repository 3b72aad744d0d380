"""The Textual shell. The only package that imports textual; nothing imports it."""
