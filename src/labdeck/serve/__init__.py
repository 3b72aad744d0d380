"""``labdeck serve``: the same app in a browser, through textual-serve (imported lazily)."""
