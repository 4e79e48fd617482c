"""gfile over local files and fsspec URLs, with TensorFlow's names and error classes."""

import os
import pickle

import pytest

from tensorkeep.io import errors, gfile


@pytest.fixture(params=["local", "memory"])
def root(request, tmp_path):
    if request.param == "local":
        yield str(tmp_path)
    else:
        url = f"memory://tensorkeep-gfile-{os.getpid()}/{request.node.originalname}"
        gfile.makedirs(url)
        yield url
        gfile.rmtree(url)


def test_write_read_text_and_binary(root):
    path = gfile.join(root, "sub", "file.txt")
    gfile.makedirs(gfile.join(root, "sub"))
    with gfile.GFile(path, "w") as handle:
        handle.write("line one\r\n")
        handle.write("l\u00efne two\n")
    with gfile.GFile(path, "r") as handle:
        assert handle.readline() == "line one\r\n"  # no newline translation
        assert handle.read() == "l\u00efne two\n"
    with gfile.Open(path, "rb") as handle:
        assert handle.read(4) == b"line"
        handle.seek(offset=-4, whence=2)
        assert handle.read() == b"two\n"
    with gfile.GFile(path, "a") as handle:
        handle.write("three\n")
    assert list(gfile.FastGFile(path, "r")) == ["line one\r\n", "l\u00efne two\n", "three\n"]
    assert gfile.GFile(path, "rb").size() == len("line one\r\nl\u00efne two\nthree\n".encode())


def test_directory_operations(root):
    gfile.MakeDirs(gfile.join(root, "a", "b"))
    gfile.mkdir(gfile.join(root, "c"))
    with pytest.raises(errors.AlreadyExistsError):
        gfile.MkDir(gfile.join(root, "c"))
    with gfile.GFile(gfile.join(root, "a", "x.bin"), "wb") as handle:
        handle.write(b"12345")
    assert sorted(gfile.listdir(root)) == ["a", "c"]
    assert sorted(gfile.ListDirectory(gfile.join(root, "a"))) == ["b", "x.bin"]
    assert gfile.isdir(gfile.join(root, "a")) and not gfile.IsDirectory(gfile.join(root, "a", "x.bin"))
    assert gfile.exists(gfile.join(root, "a", "x.bin")) and not gfile.Exists(gfile.join(root, "nope"))
    info = gfile.stat(gfile.join(root, "a", "x.bin"))
    assert info.length == 5 and not info.is_directory and info.mtime_nsec > 0
    assert gfile.Stat(gfile.join(root, "a")).is_directory
    walked = {top[len(root):].strip("/"): (sorted(dirs), sorted(files)) for top, dirs, files in gfile.walk(root)}
    assert walked == {"": (["a", "c"], []), "a": (["b"], ["x.bin"]), "a/b": ([], []), "c": ([], [])}
    assert len(list(gfile.Walk(root, in_order=False))) == 4
    gfile.DeleteRecursively(gfile.join(root, "a"))
    assert gfile.listdir(root) == ["c"]


def test_glob(root):
    for name in ["m.ckpt.index", "m.ckpt.data-00000-of-00001", ".hidden.index", "other.txt"]:
        with gfile.GFile(gfile.join(root, name), "wb") as handle:
            handle.write(b"")
    matches = gfile.glob(gfile.join(root, "*.index"))
    assert sorted(os.path.basename(match) for match in matches) == [".hidden.index", "m.ckpt.index"]
    assert [os.path.basename(match) for match in gfile.Glob(gfile.join(root, "m.ckpt.data-?????-of-00001"))] == \
        ["m.ckpt.data-00000-of-00001"]
    assert gfile.glob(gfile.join(root, "zzz*")) == []
    assert len(gfile.glob([gfile.join(root, "*.txt"), gfile.join(root, "m.*")])) == 3


def test_copy_rename_remove(root):
    source = gfile.join(root, "source")
    with gfile.GFile(source, "wb") as handle:
        handle.write(b"payload")
    gfile.copy(source, gfile.join(root, "copy"))
    with pytest.raises(errors.AlreadyExistsError):
        gfile.Copy(source, gfile.join(root, "copy"))
    gfile.Copy(source, gfile.join(root, "copy"), overwrite=True)
    gfile.rename(gfile.join(root, "copy"), gfile.join(root, "renamed"))
    with pytest.raises(errors.AlreadyExistsError):
        gfile.Rename(source, gfile.join(root, "renamed"))
    gfile.Rename(source, gfile.join(root, "renamed"), overwrite=True)
    assert sorted(gfile.listdir(root)) == ["renamed"]
    assert gfile.read_file(gfile.join(root, "renamed")) == b"payload"
    gfile.remove(gfile.join(root, "renamed"))
    with pytest.raises(errors.NotFoundError):
        gfile.Remove(gfile.join(root, "renamed"))


def test_missing_files_raise_not_found(root):
    missing = gfile.join(root, "missing.txt")
    handle = gfile.GFile(missing, "r")  # like TF, opening happens on first use
    with pytest.raises(errors.NotFoundError) as raised:
        handle.read()
    assert str(raised.value) == f"{missing}; No such file or directory"
    for call in (gfile.stat, gfile.listdir, gfile.rmtree, gfile.read_file, gfile.RandomAccessFile):
        with pytest.raises(errors.NotFoundError):
            call(missing)


def test_mode_checks(tmp_path):
    with pytest.raises(errors.InvalidArgumentError):
        gfile.GFile(str(tmp_path / "x"), "rw")
    with gfile.GFile(str(tmp_path / "x"), "w") as handle:
        with pytest.raises(errors.PermissionDeniedError):
            handle.read()


def test_cross_filesystem_copy(tmp_path):
    url = f"memory://tensorkeep-gfile-cross-{os.getpid()}/file"
    (tmp_path / "local").write_bytes(b"abc")
    try:
        gfile.copy(str(tmp_path / "local"), url)
        gfile.copy(url, str(tmp_path / "back"))
        assert (tmp_path / "back").read_bytes() == b"abc"
    finally:
        gfile.rmtree(url.rsplit("/", 1)[0])


def test_random_access_and_atomic_writer(root):
    path = gfile.join(root, "data.bin")
    with gfile.AtomicWriter(path) as writer:
        writer.write(b"0123456789")
        assert not gfile.exists(path)
    with gfile.RandomAccessFile(path) as source:
        assert source.size == 10
        assert source.read_at(3, 4) == b"3456"
        assert source.read_at(8, 10) == b"89"
        buffer = bytearray(5)
        assert source.readinto_at(5, buffer) == 5 and bytes(buffer) == b"56789"
    with pytest.raises(RuntimeError):
        with gfile.AtomicWriter(path) as writer:
            writer.write(b"half")
            raise RuntimeError("crash while writing")
    assert gfile.read_file(path) == b"0123456789"
    assert sorted(gfile.listdir(root)) == ["data.bin"]


def test_local_paths_do_not_import_fsspec(tmp_path):
    code = (
        "import sys; from tensorkeep.io import gfile\n"
        f"gfile.makedirs({str(tmp_path / 'd')!r}); assert gfile.exists({str(tmp_path)!r})\n"
        "assert 'fsspec' not in sys.modules\n")
    import subprocess
    import sys
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(__file__)))


def test_errors_have_tensorflow_codes_and_pickle():
    assert errors.NotFoundError(None, None, "m").error_code == errors.NOT_FOUND == 5
    assert errors.DataLossError(None, None, "m").error_code == 15
    assert errors.exception_type_from_error_code(3) is errors.InvalidArgumentError
    error = pickle.loads(pickle.dumps(errors.OutOfRangeError(None, None, "done")))
    assert isinstance(error, errors.OutOfRangeError) and error.message == "done" and str(error) == "done"
    assert issubclass(errors.UnauthenticatedError, errors.OpError)
    base = pickle.loads(pickle.dumps(errors.OpError(None, None, "x", errors.ABORTED)))
    assert base.error_code == errors.ABORTED
