"""Bad inputs, table-driven: every public name of every snnlit module has cases (tests/bad_inputs/<module>.py).

Each case declares its one right outcome -- a named error with the text its message must contain, or a result
checked against a naive formula -- and every case checks that the call changed none of the caller's tensors or
modules. `test_every_public_name_has_cases` fails when a module gains a public name without cases.
"""
import importlib, importlib.util, pkgutil, warnings
from pathlib import Path
import pytest
import snnlit
from badinputs import Case, snapshot, changed

CASE_DIR = Path(__file__).parent / 'bad_inputs'

def _load_cases():
    cases = []
    for path in sorted(CASE_DIR.glob('*.py')):
        if path.name.startswith('_'): continue
        spec = importlib.util.spec_from_file_location(f'bad_inputs_{path.stem}', path)
        mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
        cases += mod.CASES
    return cases

CASES = _load_cases()

def _public_modules():
    "Every public snnlit module (no `_` prefix) and its `__all__`."
    out = {}
    for info in pkgutil.iter_modules(snnlit.__path__):
        if info.name.startswith('_'): continue
        mod = importlib.import_module(f'snnlit.{info.name}')
        out[info.name] = (mod, getattr(mod, '__all__', []))
    compat = importlib.import_module('snnlit.compat')   # the import-path mirrors, every module under it
    for info in pkgutil.walk_packages(compat.__path__, 'snnlit.compat.'):
        name = info.name.removeprefix('snnlit.')
        if any(part.startswith('_') for part in name.split('.')): continue
        out[name] = (mod := importlib.import_module(info.name), getattr(mod, '__all__', []))
    return out

def _resolve(target):
    "'module.Name[.attr]' -> snnlit.module.Name; the module may be dotted ('compat.snntorch.surrogate.atan')."
    parts = target.split('.')
    for i in range(len(parts) - 1, 1, -1):
        try: return getattr(importlib.import_module('snnlit.' + '.'.join(parts[:i])), parts[i])
        except ModuleNotFoundError: continue
    return getattr(importlib.import_module(f'snnlit.{parts[0]}'), parts[1])

def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    assert not dup, f'duplicate case ids: {dup}'

def test_every_public_name_has_cases():
    "A name re-exported from another module (the same object) is covered by the cases of its home."
    covered = {id(_resolve(c.target)) for c in CASES}
    missing = [f'{m}.{n}' for m, (mod, names) in _public_modules().items() for n in names
               if id(getattr(mod, n)) not in covered]
    assert not missing, f'public names without bad-input cases: {missing}'

@pytest.mark.parametrize('case', CASES, ids=[c.id for c in CASES])
def test_case(case: Case):
    snap = snapshot(case)
    if case.raises is not None:
        with pytest.raises(case.raises) as info:
            case.fn(*case.args, **case.kwargs)
        assert case.match in str(info.value), f'message {str(info.value)!r} lacks {case.match!r}'
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            result = case.fn(*case.args, **case.kwargs)
        if case.warns is not None:
            assert any(issubclass(w.category, case.warns) for w in caught), f'no {case.warns.__name__} warning'
        case.check(result)
    bad = changed(snap)
    assert not bad, f'the call changed the caller\'s {bad}'
