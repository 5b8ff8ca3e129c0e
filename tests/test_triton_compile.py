"""Every Triton kernel configuration compiles for real GPUs, on a machine without one.

The interpreter tests (test_neuron_triton.py, the notebooks' `triton` cells) check what the kernels compute; they
do not run Triton's compiler. Here each kernel goes through the whole CUDA pipeline (TTIR → TTGIR → LLVM IR → PTX →
cubin with the ptxas that ships with triton) for Hopper (sm_90) and Ampere (sm_80), for every configuration the
Python side can launch. The forward neuron kernel's PTX is also checked for what makes it bit-identical to PyTorch:
IEEE-rounded division and no fused multiply-add.
"""
import itertools, re
import pytest

triton = pytest.importorskip('triton')
import triton.language as tl
from triton.compiler import ASTSource
from triton.backends.compiler import GPUTarget
from snnlit import neuron_triton as nt, surrogate_triton as stt
from snnlit._triton import BLOCK, SURROGATE_CODES

TARGETS = [GPUTarget('cuda', 90, 32), GPUTarget('cuda', 80, 32)]
DTYPES = ['fp32', 'fp16', 'bf16', 'fp64']

def compile_kernel(fn, signature, constexprs, target):
    sig = {**signature, **{k: 'constexpr' for k in constexprs}}
    return triton.compile(ASTSource(fn=fn, signature=sig, constexprs=constexprs), target=target)

def forward(dt, target, charge, soft, vrest0=False, save_h=True, store_v=True):
    p = 'fp64' if dt == 'fp64' else 'fp32'
    sig = {'x_ptr': '*' + dt, 'v0_ptr': '*' + dt, 'p_ptr': '*' + p, 's_ptr': '*' + dt, 'h_ptr': '*' + dt,
           'vseq_ptr': '*' + dt, 'vout_ptr': '*' + dt, 'T': 'i32', 'numel': 'i32'}
    return compile_kernel(nt._forward_kernel, sig, dict(CHARGE=charge, SOFT=soft, VREST0=vrest0, F64=dt == 'fp64',
                          ct=tl.float64 if dt == 'fp64' else tl.float32, SAVE_H=save_h, STORE_V=store_v, BLOCK=BLOCK), target)

@pytest.mark.parametrize('target', TARGETS, ids=lambda t: f'sm_{t.arch}')
@pytest.mark.parametrize('dt', DTYPES)
def test_forward_kernel_compiles(dt, target):
    for charge, soft, vrest0 in itertools.product((0, 1, 2), (False, True), (False, True)):
        k = forward(dt, target, charge, soft, vrest0, save_h=not soft, store_v=soft)
        assert k.asm['cubin'], (charge, soft, vrest0)

@pytest.mark.parametrize('dt', ['fp32', 'fp16', 'bf16'])
def test_forward_kernel_rounds_like_pytorch(dt):
    "float32 compute: `div.rn` (IEEE) division and no fma contraction, so every operation rounds as PyTorch's."
    for charge in (1, 2):
        ptx = forward(dt, TARGETS[0], charge, soft=False).asm['ptx']
        assert 'div.rn.f32' in ptx
        assert not re.search(r'\bfma\.', ptx) and not re.search(r'\bdiv\.(approx|full)', ptx)

@pytest.mark.parametrize('target', TARGETS, ids=lambda t: f'sm_{t.arch}')
@pytest.mark.parametrize('dt', DTYPES)
def test_backward_kernel_compiles(dt, target):
    p = 'fp64' if dt == 'fp64' else 'fp32'
    sig = {**{n: '*' + dt for n in ('h_ptr', 'sg_ptr', 'gs_ptr', 'gvseq_ptr', 'gvf_ptr')}, 'p_ptr': '*' + p,
           'gx_ptr': '*' + dt, 'gv0_ptr': '*' + dt, 'T': 'i32', 'numel': 'i32'}
    # every reset with a read surrogate (0) and the default Sigmoid; every other formula of the table once
    sigmoid = SURROGATE_CODES['sigmoid']
    configs = [dict(SG=sg, SPIKE_GRAD=True, THROUGH_RESET=tr, SOFT=soft, HAS_GS=True, HAS_GVSEQ=True, HAS_GVF=True)
               for sg, tr, soft in itertools.product((0, sigmoid), (False, True), (False, True))]
    configs += [dict(SG=sg, SPIKE_GRAD=True, THROUGH_RESET=True, SOFT=False, HAS_GS=True, HAS_GVSEQ=True, HAS_GVF=True)
                for sg in SURROGATE_CODES.values() if sg != sigmoid]
    configs.append(dict(SG=0, SPIKE_GRAD=False, THROUGH_RESET=False, SOFT=False, HAS_GS=False, HAS_GVSEQ=False, HAS_GVF=False))
    for cfg in configs:
        k = compile_kernel(nt._backward_kernel, sig, dict(cfg, F64=dt == 'fp64', ct=tl.float64 if dt == 'fp64' else tl.float32,
                                                           BLOCK=BLOCK), target)
        assert k.asm['cubin'], cfg

@pytest.mark.parametrize('target', TARGETS, ids=lambda t: f'sm_{t.arch}')
@pytest.mark.parametrize('dt', ['fp32', 'fp16', 'bf16'])
def test_surrogate_kernel_compiles(dt, target):
    "Every surrogate formula, a full and a scalar incoming gradient, float64 (module buffers) and float32 parameters."
    sig = {'g_ptr': '*' + dt, 'x_ptr': '*' + dt, 'a_ptr': '*fp64', 'b_ptr': '*fp32', 'out_ptr': '*' + dt, 'numel': 'i32'}
    assert sorted(SURROGATE_CODES.values()) == list(range(1, 12))
    for code, scalar in itertools.product(SURROGATE_CODES.values(), (False, True)):
        k = compile_kernel(stt._surrogate_backward_kernel, sig, dict(CODE=code, G_SCALAR=scalar, BLOCK=BLOCK), target)
        assert k.asm['cubin'], (code, scalar)
