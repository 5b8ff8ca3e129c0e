"""Shared test helpers: stable seeds and comparisons whose tolerance follows the dtype.

Exact comparisons (`torch.equal`, `test_eq`) belong only where the code promises bit-identity: the same kernel
on the same shapes in the same order. Anything else -- a different batch folding, backend, thread count or CPU
code path (MKL and ATen pick kernels per machine) -- is compared with `assert_close`, whose tolerance comes from
the dtype (torch.testing's defaults: float32 rtol 1.3e-6, float64 1e-7, float16 1e-3, bfloat16 1.6e-2).
`make test-portable` reruns the numeric tests on another CPU code path to catch the exact ones that slipped.
"""
import zlib
import torch

def stable_seed(*parts) -> int:
    "A seed that depends only on `parts` (their repr), the same in every process -- unlike `hash()`."
    return zlib.crc32(repr(parts).encode())

def generator(*parts) -> torch.Generator:
    "A CPU generator seeded with `stable_seed(*parts)`."
    return torch.Generator().manual_seed(stable_seed(*parts))

def assert_close(actual, expected, **kw):
    "torch.testing.assert_close with the dtype's default tolerance; NaN equals NaN."
    torch.testing.assert_close(actual, expected, equal_nan=True, **kw)
