"""Write README.md from nbs/index.ipynb (Quarto, which `nbdev_readme` needs, is not installable offline)."""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*)$')
# links between notebooks are relative to nbs/; the README sits one folder up
NOTEBOOK_LINK = re.compile(r'\]\((?!https?:|/|#)([^)\s]+\.ipynb(?:#[^)\s]*)?)\)')

def _directives(src):
    return [m.group(1).strip() for line in src.splitlines() if (m := DIRECTIVE.match(line))]

def render(nb_path=ROOT/'nbs'/'index.ipynb'):
    "The README text for the notebook at `nb_path`."
    out = []
    for cell in json.loads(Path(nb_path).read_text())['cells']:
        src = ''.join(cell['source'])
        if any(d.startswith('hide') for d in _directives(src)): continue
        if cell['cell_type'] == 'markdown': out.append(NOTEBOOK_LINK.sub(r'](nbs/\1)', src.strip()))
        elif cell['cell_type'] == 'code':
            code = '\n'.join(l for l in src.splitlines() if not DIRECTIVE.match(l)).strip()
            if code: out.append(f'```python\n{code}\n```')
    return '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    text = render()
    if '--check' in sys.argv: sys.exit(0 if (ROOT/'README.md').read_text() == text else 'README.md is out of date: run `make readme`')
    (ROOT/'README.md').write_text(text)
