"""Every private PyTorch API that snnlit uses (snnlit._compat) still exists in the installed torch, and no other
snnlit module reaches for one directly."""
import ast
import pytest
from pathlib import Path
import torch
import snnlit._compat as compat

ROOT = Path(__file__).resolve().parent.parent

def test_private_apis_exist():
    fc = torch._C._functorch
    for name in ('is_functorch_wrapped_tensor', 'is_batchedtensor', 'get_unwrapped'): assert hasattr(fc, name), name
    assert hasattr(torch._C, '_are_functorch_transforms_active')
    assert hasattr(torch, '_assert_async')
    assert 'grad_input' in str(torch.ops.aten.sigmoid_backward.grad_input._schema)
    assert hasattr(torch._C._FunctionBase, 'apply')
    from torch.nn.modules.batchnorm import _BatchNorm
    assert issubclass(torch.nn.BatchNorm2d, _BatchNorm)
    assert compat._smooth_l1_kernel is torch._C._nn.smooth_l1_loss   # (not the public fallback)

def _private_torch_uses(path):
    "Attribute chains starting at `torch` with a `_private` part, e.g. torch._C._functorch, in a module's code."
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute):
            parts, n = [], node
            while isinstance(n, ast.Attribute): parts.append(n.attr); n = n.value
            if isinstance(n, ast.Name) and n.id == 'torch' and any(p.startswith('_') and not p.startswith('__') for p in parts):
                found.append('torch.' + '.'.join(reversed(parts)))
        if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('torch') and \
           (any(p.startswith('_') for p in node.module.split('.')) or any(a.name.startswith('_') for a in node.names)):
            found.append(node.module)
    return found

MODULES = sorted(p.name for p in (ROOT / 'snnlit').glob('*.py') if p.name not in ('_compat.py', '_modidx.py'))

@pytest.mark.parametrize('module', MODULES)
def test_no_module_but_compat_uses_private_torch(module):
    uses = _private_torch_uses(ROOT / 'snnlit' / module)
    assert not uses, f'{module} uses private torch APIs directly (take them from snnlit._compat): {uses}'
