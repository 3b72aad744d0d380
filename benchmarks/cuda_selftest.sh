#!/usr/bin/env bash
# Every demo's quick preset on CUDA, then on CPU, on a machine with an NVIDIA GPU.
#
#   bash benchmarks/cuda_selftest.sh            # from the repository root
#   OUT=/some/dir bash benchmarks/cuda_selftest.sh   # also writes $OUT/selftest.txt
#
# Installs nothing: it uses the Python on PATH (or $PYTHON) with this checkout's src/ first on
# PYTHONPATH, so torch (a CUDA build) must already be installed there. Prints the GPUs
# (nvidia-smi -L), what torch sees (version, CUDA build, devices), then
# `labdeck demo selftest --device cuda` and `--device cpu` (one line per registry demo: status,
# time, device, checks, and the loosest tolerance its exactness checks were held to), each under
# a time limit. State and trained models go to fresh temporary directories, so every demo
# trains: the times are cold-cache times. Exit status: that of the CUDA selftest, or of the CPU
# one when CUDA passed.
set -u
cd "$(dirname "$0")/.." || exit 2

PYTHON="${PYTHON:-python3}"
LIMIT_CUDA="${LIMIT_CUDA:-240}"  # seconds per selftest pass
LIMIT_CPU="${LIMIT_CPU:-300}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/labdeck-selftest.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

main() {
    echo "== labdeck demo selftest on $(hostname) at $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "== git: $(git rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout')"
    echo "== nvidia-smi -L"
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi -L
    else
        echo "nvidia-smi: not found"
    fi
    echo "== torch"
    "$PYTHON" - <<'EOF'
import sys
try:
    import torch
except Exception as exc:  # report, do not install
    print(f"torch: cannot import ({type(exc).__name__}: {exc})")
    sys.exit(0)
print(f"python {sys.version.split()[0]}; torch {torch.__version__}; "
      f"built with CUDA {torch.version.cuda}; cuda available: {torch.cuda.is_available()}")
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f"cuda:{i} {p.name}, {p.total_memory / 2**30:.0f} GiB, "
          f"compute capability {p.major}.{p.minor}")
EOF
    local status=0 code
    for device in cuda cpu; do
        local limit="$LIMIT_CUDA"
        [ "$device" = cpu ] && limit="$LIMIT_CPU"
        echo "== labdeck demo selftest --device $device (limit ${limit} s)"
        LABDECK_HOME="$TMP/home-$device" LABDECK_CACHE="$TMP/cache-$device" \
            timeout --kill-after=10 "$limit" \
            "$PYTHON" -m labdeck.cli demo selftest --device "$device" 2>&1
        code=$?
        [ "$code" -eq 124 ] && echo "selftest --device $device: stopped after ${limit} s"
        echo "== exit status $code"
        [ "$status" -eq 0 ] && status=$code
    done
    return "$status"
}

if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    main 2>&1 | tee "$OUT/selftest.txt"
    exit "${PIPESTATUS[0]}"
fi
main
