"""pytest plugin (loaded by tests/test_docs.py): run the documentation tests after all the others.

The site is built from the executed notebooks that tests/test_notebooks.py saves; run last, the docs tests
reuse them instead of executing every notebook a second time.
"""
def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.nodeid.startswith('tests/test_docs.py'))   # a stable sort: order kept otherwise
