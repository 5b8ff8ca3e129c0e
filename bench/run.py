"""Run every benchmark in bench/ and print one combined markdown report.

    python bench/run.py [--quick] [--allocator warm|default|both] [--device cuda] [--only neuron surrogate ...]
                        [--out report.md]

Each bench/<name>.py is a script that prints a markdown table; this runs them one after another as
subprocesses (so one's allocations and threads do not colour the next), with their own default flags, and
prints their tables under one header that records the machine: CPU model (from /proc/cpuinfo), logical CPUs,
torch's default thread count, torch, Python, and the git commit when there is one. With `--device cuda`,
the scripts that take a `--device` flag run a second time on the GPU; without a GPU those rows are skipped
with a note. `--quick` passes `--quick` to the scripts that take it (fewer sizes and repeats); `--allocator`
passes the allocator setting to the scripts that take one (`both`: each such script runs once per setting).
The sweeps write their rows to nbs/data/bench/<name>.csv as they go. The exit status is non-zero when any
script failed; the others still run.
"""
import argparse, datetime, os, platform, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent

def cpu_model():
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

def git_commit():
    try:
        out = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=HERE, capture_output=True, text=True, timeout=10)
        if out.returncode != 0: return 'unknown'
        dirty = subprocess.run(['git', 'status', '--porcelain'], cwd=HERE, capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (' (with uncommitted changes)' if dirty else '')
    except (OSError, subprocess.SubprocessError): return 'unknown'

def machine_lines(torch):
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'
    return [f'- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; commit {git_commit()}',
            f'- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; torch default threads {torch.get_num_threads()}',
            f'- torch {torch.__version__}, Python {platform.python_version()}, {platform.system()} {platform.machine()}; GPU: {gpu}']

def takes_flag(script:Path, flag:str) -> bool:
    "Whether the script declares `flag` (itself, or through bench/_common.add_common_args)."
    text = script.read_text()
    common = flag in ('--quick', '--allocator') and 'add_common_args' in text
    return common or f"'{flag}'" in text or f'"{flag}"' in text

def takes_device(script:Path) -> bool:
    return takes_flag(script, '--device')

def run_script(script:Path, extra, timeout):
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script), *extra], capture_output=True, text=True, timeout=timeout,
                              cwd=HERE.parent)
        out, rc = proc.stdout, proc.returncode
        err = proc.stderr if rc != 0 else ''
    except subprocess.TimeoutExpired as e:
        out, rc, err = (e.stdout or b'').decode() if isinstance(e.stdout, bytes) else (e.stdout or ''), -1, f'timed out after {timeout} s'
    return out.rstrip(), rc, err.strip(), time.perf_counter() - t0

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu', choices=('cpu', 'cuda'), help='cuda: also run the GPU rows (where a script has them)')
    p.add_argument('--only', nargs='*', default=None, help='names of the scripts to run (default: all)')
    p.add_argument('--timeout', type=int, default=1800, help='seconds allowed per script')
    p.add_argument('--out', default=None, help='also write the report to this file')
    p.add_argument('--quick', action='store_true', help='fewer sizes and repeats in the scripts that take --quick')
    p.add_argument('--allocator', default=None, choices=('warm', 'default', 'both'),
                   help="glibc's allocator setting for the scripts that take one (default: each script's own)")
    args = p.parse_args()
    import torch
    scripts = sorted(s for s in HERE.glob('*.py') if s.name != Path(__file__).name and not s.name.startswith('_'))
    if args.only: scripts = [s for s in scripts if s.stem in args.only]
    def flags(s):
        quick = ['--quick'] if args.quick and takes_flag(s, '--quick') else []
        if args.allocator is None or not takes_flag(s, '--allocator'): return [quick]
        settings = ('warm', 'default') if args.allocator == 'both' else (args.allocator,)
        return [quick + [f'--allocator={a}'] for a in settings]
    runs = [(s, f) for s in scripts for f in flags(s)]
    notes = []
    if args.device == 'cuda':
        gpu_scripts = [s for s in scripts if takes_device(s)]
        if torch.cuda.is_available(): runs += [(s, f + ['--device', 'cuda']) for s in gpu_scripts for f in flags(s)]
        else: notes.append(f'no CUDA device: the GPU rows of {", ".join(s.stem for s in gpu_scripts) or "(none)"} are skipped')
    report = ['# snnlit benchmarks', '', *machine_lines(torch), *(f'- note: {n}' for n in notes), '']
    print('\n'.join(report), flush=True)
    failed = []
    for script, extra in runs:
        title = f'## {script.stem}' + (f' ({" ".join(extra)})' if extra else '')
        out, rc, err, secs = run_script(script, extra, args.timeout)
        section = [title, '', f'`python bench/{script.name} {" ".join(extra)}`'.replace(' `', '`') + f' — {secs:.0f} s', '', out]
        if rc != 0:
            failed.append(script.stem + (' (cuda)' if 'cuda' in extra else ''))
            section += ['', f'**failed** (exit status {rc}):', '```', err[-3000:], '```']
        section.append('')
        print('\n'.join(section), flush=True)
        report += section
    if failed: report.append(f'Failed: {", ".join(failed)}'); print(report[-1])
    if args.out: Path(args.out).write_text('\n'.join(report) + '\n')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
