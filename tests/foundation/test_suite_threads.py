"""The suite's processes run one BLAS thread each (tests/conftest.py): two xdist workers on two
cores, a second OpenBLAS thread spin-waits for a core the other worker holds."""

from __future__ import annotations

import os


def test_blas_libraries_run_the_thread_count_the_conftest_sets() -> None:
    import numpy  # noqa: F401 - loads OpenBLAS if nothing has yet
    from threadpoolctl import threadpool_info

    wanted = int(os.environ["OPENBLAS_NUM_THREADS"])
    blas = [i for i in threadpool_info() if i["internal_api"] == "openblas"]
    assert blas, threadpool_info()
    assert {i["num_threads"] for i in blas} == {wanted}
