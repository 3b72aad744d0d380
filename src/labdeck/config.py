"""Settings and paths.

All state lives under one home directory: ``LABDECK_HOME`` (or ``--home``) when set, else the
platform's user data directory. The settings file is TOML; missing keys take defaults.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path

APP_NAME = "labdeck"
SCHEDULERS: tuple[str, ...] = ("sm2", "fsrs")
MIN_RETENTION, MAX_RETENTION = 0.7, 0.99  # desired_retention range (Anki's, for FSRS)


def home_dir(override: Path | str | None = None) -> Path:
    """The directory that holds the database, backups and (with LABDECK_HOME) the config."""
    if override:
        path = Path(override).expanduser()
    elif os.environ.get("LABDECK_HOME"):
        path = Path(os.environ["LABDECK_HOME"]).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path(APP_NAME, appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_path(override: Path | str | None = None) -> Path:
    """Settings file: inside the home when it is overridden, else the user config dir."""
    if override or os.environ.get("LABDECK_HOME"):
        return home_dir(override) / "config.toml"
    from platformdirs import user_config_path

    path = user_config_path(APP_NAME, appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path / "config.toml"


def db_path(override: Path | str | None = None) -> Path:
    return home_dir(override) / "labdeck.db"


def cache_dir() -> Path:
    """Rebuildable caches derived from installed packages (never user data): ``LABDECK_CACHE``
    when set, else the platform's user cache directory. Shared by every home on the machine."""
    env = os.environ.get("LABDECK_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def content_dir() -> Path:
    """The shipped deck: ``content/`` at the project root, or the copy bundled in the wheel
    (see content/README.md); ``LABDECK_CONTENT`` overrides it."""
    from labdeck.resources import project_folder

    env = os.environ.get("LABDECK_CONTENT")
    if env:
        return Path(env)
    return project_folder("content") or Path(__file__).resolve().parents[2] / "content"


@dataclass
class Settings:
    new_per_day: int = 20
    reviews_per_day: int = 200
    rollover_hour: int = 4
    leech_threshold: int = 8
    leech_every: int = 4
    grading_backend: str = "use"
    grading_model: str = ""
    demo_device: str = "auto"
    demo_threads: int = 1
    theme: str = "textual-dark"
    backups_keep: int = 10  # verified database backups kept next to labdeck.db (newest first)
    deck_limits: dict[str, dict[str, int]] = field(default_factory=dict)
    # deck key -> "sm2" | "fsrs" (missing: sm2); switch with `labdeck deck scheduler`
    deck_schedulers: dict[str, str] = field(default_factory=dict)
    desired_retention: float = 0.9  # FSRS decks: the recall probability reviews aim at
    # deck key -> exam day "YYYY-MM-DD"; set with `labdeck deck exam-date` (srs/exam_date.py)
    exam_dates: dict[str, str] = field(default_factory=dict)

    def limits_for(self, deck_key: str) -> tuple[int, int]:
        """(new per day, reviews per day) for a deck, falling back to the global limits."""
        own = self.deck_limits.get(deck_key, {})
        return own.get("new_per_day", self.new_per_day), own.get(
            "reviews_per_day", self.reviews_per_day
        )


class SettingsError(ValueError):
    pass


def load_settings(override: Path | str | None = None) -> Settings:
    path = config_path(override)
    if not path.exists():
        return Settings()
    import tomllib  # only for a file to read (its import compiles regexes: ~5 ms of start-up)

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    known = {f.name: f for f in fields(Settings)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            continue
        default = getattr(Settings(), key)
        if not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(
            default, bool
        ):
            raise SettingsError(f"{path}: {key} must be {type(default).__name__}")
        values[key] = value
    settings = Settings(**values)
    if not 0 <= settings.rollover_hour <= 23:
        raise SettingsError(f"{path}: rollover_hour must be between 0 and 23")
    if settings.backups_keep < 1:
        raise SettingsError(f"{path}: backups_keep must be at least 1")
    if not MIN_RETENTION <= settings.desired_retention <= MAX_RETENTION:
        raise SettingsError(
            f"{path}: desired_retention must be between {MIN_RETENTION} and {MAX_RETENTION}"
        )
    for deck, name in settings.deck_schedulers.items():
        if name not in SCHEDULERS:
            raise SettingsError(
                f"{path}: deck_schedulers.{deck} must be one of {', '.join(SCHEDULERS)}"
            )
    for deck, day in settings.exam_dates.items():
        try:
            date.fromisoformat(day)
        except (TypeError, ValueError):
            raise SettingsError(
                f"{path}: exam_dates.{deck} must be a date as YYYY-MM-DD, got {day!r}"
            ) from None
    return settings


def save_settings(settings: Settings, override: Path | str | None = None) -> Path:
    import tomli_w

    path = config_path(override)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(asdict(settings)), encoding="utf-8")
    tmp.replace(path)
    return path
