"""What the tests share besides fixtures: paths, databases, configs, local servers and
builders of stored history. Test modules import from here, never from each other; the
fixtures themselves are in tests/conftest.py."""
