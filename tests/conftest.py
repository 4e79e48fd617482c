import os

import pytest

from tf_oracle import SHARED, SKIP_REASON, tf_python


def pytest_collection_modifyitems(config, items):
    if tf_python() is None:
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in items:
            if "tf" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_dir():
    if not os.path.isdir(SHARED):
        pytest.skip("../shared (reference files) not found; set TENSORKEEP_SHARED")
    return SHARED
