from tests.conftest import disk_snapshot
def test_probe(demo_loaded, mlg, store_path):
    s = disk_snapshot(store_path)
    print(len(s))
    r = mlg("stats")
    print(r.output)
    assert disk_snapshot(store_path) == s
