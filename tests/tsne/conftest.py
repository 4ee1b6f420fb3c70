"""Shared data for the t-SNE engine tests."""
from __future__ import annotations

import os

import pytest
import torch


@pytest.fixture(scope="session")
def digits():
    from nbviz.data import digits as load

    X, y = load()
    return X, y


@pytest.fixture(autouse=True)
def _fixed_torch_seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="module")
def _torch_threads():
    """One intra-op thread by default: on a shared 2-core runner, two threads that wait on each
    other at every op are several times slower than one (measured). NBVIZ_TEST_THREADS sets
    another count (`make test` also runs the numerics with 2, for other summation orders)."""
    before = torch.get_num_threads()
    torch.set_num_threads(int(os.environ.get("NBVIZ_TEST_THREADS", "1")))
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def openmp_build():
    """The C library built with OpenMP against torch's runtime (skips where it cannot be)."""
    from nbviz.tsne import native

    runtime = native.torch_openmp_runtime()
    if runtime is None:
        pytest.skip("torch does not run on GNU OpenMP here")
    built = native.build(runtime)
    if built is None or not built.openmp:
        pytest.skip("no C compiler with OpenMP here")
    return built


@pytest.fixture(scope="session")
def serial_build():
    """The C library built without OpenMP (its callers split rows over Python threads)."""
    from nbviz.tsne import native

    built = native.build(None)
    if built is None:
        pytest.skip("no C compiler here")
    assert not built.openmp
    return built
