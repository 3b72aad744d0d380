"""Documents -> cards: parsers (pure) and the loader that upserts them into the store."""
