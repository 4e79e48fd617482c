"""TensorFlow's gfile API over the local file system and fsspec.

Plain paths (and `file://` URLs) use `os` and built-in files directly; any other `scheme://`
path goes through fsspec (memory://, s3://, gs://, ...), which is imported only then.
Both spellings are provided: TF1's `tf.gfile.Exists`, `MakeDirs`, ... and `tf.io.gfile`'s
`exists`, `makedirs`, ...; failures raise the io layer's `errors.*` classes as TF does.

The other io modules reach files only through this module, so every path they take may be
a URL. Besides the public API it offers them `read_file`, `RandomAccessFile` (positional
reads on one shared handle) and `AtomicWriter` (temporary name, fsync, rename into place).
"""

import contextlib
import errno
import os
import re
import sys
import threading

from . import errors

try:
    import fcntl
except ImportError:  # Windows: temporary files are not locked, so none is ever taken for abandoned.
    fcntl = None

# shutil, tempfile and glob are imported where used: `import tensorkeep` stays fast.

_FILE_SCHEME = "file://"
_VALID_MODES = ("r", "w", "a", "r+", "w+", "a+")


def path_str(path):
    """`path` (str, bytes or os.PathLike) as a str."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    return path


_to_str = path_str  # Earlier spelling, still used by tensorkeep/tools/model_files.py.


def _split(path):
    """(None, local_path) for local files, else (fsspec filesystem, path inside it)."""
    path = path_str(path)
    if path.startswith(_FILE_SCHEME):
        return None, path[len(_FILE_SCHEME):]
    if "://" not in path:
        return None, path
    import fsspec

    return fsspec.core.url_to_fs(path)


_ERRNO_TO_ERROR = {
    errno.ENOENT: errors.NotFoundError,
    errno.EEXIST: errors.AlreadyExistsError,
    errno.EACCES: errors.PermissionDeniedError,
    errno.EPERM: errors.PermissionDeniedError,
    errno.EROFS: errors.PermissionDeniedError,
    errno.EISDIR: errors.FailedPreconditionError,
    errno.ENOTDIR: errors.FailedPreconditionError,
    errno.ENOTEMPTY: errors.FailedPreconditionError,
    errno.ENOSPC: errors.ResourceExhaustedError,
    errno.EDQUOT: errors.ResourceExhaustedError,
    errno.ENAMETOOLONG: errors.InvalidArgumentError,
}


_DEFAULT_REASONS = {
    errors.NotFoundError: "No such file or directory",
    errors.AlreadyExistsError: "File exists",
    errors.PermissionDeniedError: "Permission denied",
}


def _os_error_to_op_error(error, path):
    error_class = _ERRNO_TO_ERROR.get(error.errno)
    if error_class is None:
        if isinstance(error, FileNotFoundError):
            error_class = errors.NotFoundError
        elif isinstance(error, FileExistsError):
            error_class = errors.AlreadyExistsError
        elif isinstance(error, PermissionError):
            error_class = errors.PermissionDeniedError
        else:
            error_class = errors.UnknownError
    reason = error.strerror or _DEFAULT_REASONS.get(error_class) or str(error) or type(error).__name__
    return error_class(None, None, f"{path}; {reason}")


@contextlib.contextmanager
def _os_errors_as_op_errors(path):
    try:
        yield
    except errors.OpError:
        raise
    except OSError as error:
        raise _os_error_to_op_error(error, path_str(path)) from error


# ---------------------------------------------------------------------------- files


class GFile:
    """A file handle like TF's `tf.io.gfile.GFile`: opened on first use, no newline translation.

    Text modes ('r', 'w', 'a') read and write `str` encoded as UTF-8; 'b' modes use bytes.
    """

    def __init__(self, name, mode="r", encoding="utf-8"):
        self._name = name
        self._mode = mode
        self._encoding = encoding
        self._binary_mode = "b" in mode
        plain_mode = mode.replace("b", "")
        if plain_mode not in _VALID_MODES:
            raise errors.InvalidArgumentError(None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self._plain_mode = plain_mode
        self._readable = plain_mode in ("r", "r+", "a+", "w+")
        self._writable = plain_mode in ("a", "w", "r+", "a+", "w+")
        self._file = None

    @property
    def name(self):
        return self._name

    @property
    def mode(self):
        return self._mode

    def _handle(self):
        if self._file is None:
            fs, path = _split(self._name)
            with _os_errors_as_op_errors(self._name):
                if fs is None:
                    self._file = open(path, self._plain_mode + "b")
                else:
                    self._file = fs.open(path, self._plain_mode + "b")
        return self._file

    def _check_readable(self):
        if not self._readable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for reading")
        return self._handle()

    def _check_writable(self):
        if not self._writable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for writing")
        return self._handle()

    def _as_result(self, data):
        return data if self._binary_mode else data.decode(self._encoding)

    def size(self):
        return stat(self._name).length

    def read(self, n=-1):
        handle = self._check_readable()
        with _os_errors_as_op_errors(self._name):
            data = handle.read() if n is None or n < 0 else handle.read(n)
        return self._as_result(data)

    def readline(self):
        handle = self._check_readable()
        with _os_errors_as_op_errors(self._name):
            return self._as_result(handle.readline())

    def readlines(self):
        return list(iter(self.readline, self._as_result(b"")))

    def readinto(self, buffer):
        handle = self._check_readable()
        with _os_errors_as_op_errors(self._name):
            return handle.readinto(buffer)

    def write(self, file_content):
        handle = self._check_writable()
        if isinstance(file_content, str):
            file_content = file_content.encode(self._encoding)
        with _os_errors_as_op_errors(self._name):
            handle.write(file_content)

    def seek(self, offset=None, whence=0, position=None):
        if offset is None and position is None:
            raise TypeError("seek(): offset argument required")
        if offset is not None and position is not None:
            raise TypeError("seek(): offset and position may not be set simultaneously.")
        if whence not in (0, 1, 2):
            raise errors.InvalidArgumentError(
                None, None, f"Invalid whence argument: {whence}. Valid values are 0, 1, or 2.")
        handle = self._check_readable()
        with _os_errors_as_op_errors(self._name):
            return handle.seek(offset if offset is not None else position, whence)

    def tell(self):
        return self._handle().tell()

    def seekable(self):
        return True

    def readable(self):
        return self._readable

    def writable(self):
        return self._writable

    def flush(self):
        if self._file is not None:
            with _os_errors_as_op_errors(self._name):
                self._file.flush()

    def close(self):
        if self._file is not None:
            handle, self._file = self._file, None
            with _os_errors_as_op_errors(self._name):
                handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration()
        return line

    next = __next__


FastGFile = GFile
Open = GFile


# ------------------------------------------------------------------ file system ops


class FileStatistics:
    """What `stat` returns: `length` in bytes, `mtime_nsec`, `is_directory`."""

    __slots__ = ("length", "mtime_nsec", "is_directory")

    def __init__(self, length, mtime_nsec, is_directory):
        self.length = length
        self.mtime_nsec = mtime_nsec
        self.is_directory = is_directory

    def __repr__(self):
        return (f"FileStatistics(length={self.length}, mtime_nsec={self.mtime_nsec}, "
                f"is_directory={self.is_directory})")


def exists(path):
    fs, local = _split(path)
    if fs is None:
        return os.path.exists(local)
    return fs.exists(local)


def isdir(path):
    fs, local = _split(path)
    if fs is None:
        return os.path.isdir(local)
    return fs.isdir(local)


def makedirs(path):
    fs, local = _split(path)
    with _os_errors_as_op_errors(path):
        if fs is None:
            os.makedirs(local, exist_ok=True)
        else:
            fs.makedirs(local, exist_ok=True)


def mkdir(path):
    fs, local = _split(path)
    with _os_errors_as_op_errors(path):
        if fs is None:
            os.mkdir(local)
        else:
            if fs.exists(local):
                raise errors.AlreadyExistsError(None, None, f"{path_str(path)}; File exists")
            fs.mkdir(local, create_parents=False)


def listdir(path):
    """Names (not paths) of the entries in directory `path`."""
    if not isdir(path):
        raise errors.NotFoundError(None, None, f"Could not find directory {path_str(path)}")
    fs, local = _split(path)
    with _os_errors_as_op_errors(path):
        if fs is None:
            return os.listdir(local)
        root = local.rstrip("/")
        names = []
        for entry in fs.ls(local, detail=False):
            entry = entry.rstrip("/")
            if entry != root:
                names.append(entry.rsplit("/", 1)[-1])
        return names


def glob(pattern):
    """Paths matching `pattern` (`*`, `?`, `[...]`), sorted; `pattern` may be a list of them."""
    if not isinstance(pattern, (str, bytes, os.PathLike)):
        return sorted({match for one_pattern in pattern for match in glob(one_pattern)})
    pattern = path_str(pattern)
    fs, local = _split(pattern)
    if fs is None:
        import glob as _glob

        prefix = _FILE_SCHEME if pattern.startswith(_FILE_SCHEME) else ""
        if sys.version_info >= (3, 11):
            matches = _glob.glob(local, include_hidden=True)
        else:
            matches = _glob.glob(local)
        return sorted(prefix + match for match in matches)
    return sorted(fs.unstrip_protocol(match) for match in fs.glob(local))


def remove(path):
    fs, local = _split(path)
    with _os_errors_as_op_errors(path):
        if fs is None:
            os.remove(local)
        else:
            if not fs.exists(local):
                raise FileNotFoundError(errno.ENOENT, "No such file or directory")
            fs.rm_file(local)


def rmtree(path):
    fs, local = _split(path)
    with _os_errors_as_op_errors(path):
        if fs is None:
            if os.path.isdir(local) and not os.path.islink(local):
                import shutil

                shutil.rmtree(local)
            else:
                os.remove(local)
        else:
            if not fs.exists(local):
                raise FileNotFoundError(errno.ENOENT, "No such file or directory")
            fs.rm(local, recursive=True)


def _refuse_overwrite(dst, overwrite):
    if not overwrite and exists(dst):
        raise errors.AlreadyExistsError(None, None, "file already exists")


def rename(src, dst, overwrite=False):
    _refuse_overwrite(dst, overwrite)
    src_fs, src_local = _split(src)
    dst_fs, dst_local = _split(dst)
    with _os_errors_as_op_errors(src):
        if src_fs is None and dst_fs is None:
            os.replace(src_local, dst_local)
        elif src_fs is not None and src_fs is dst_fs:
            src_fs.mv(src_local, dst_local)
        else:
            copy(src, dst, overwrite=True)
            rmtree(src)


def copy(src, dst, overwrite=False):
    import shutil

    _refuse_overwrite(dst, overwrite)
    src_fs, src_local = _split(src)
    dst_fs, dst_local = _split(dst)
    with _os_errors_as_op_errors(src):
        if src_fs is None and dst_fs is None:
            shutil.copyfile(src_local, dst_local)
        elif src_fs is not None and src_fs is dst_fs:
            src_fs.copy(src_local, dst_local)
        else:
            with GFile(src, "rb") as reader, GFile(dst, "wb") as writer:
                shutil.copyfileobj(reader, writer)


def stat(path):
    fs, local = _split(path)
    with _os_errors_as_op_errors(path):
        if fs is None:
            result = os.stat(local)
            return FileStatistics(result.st_size, result.st_mtime_ns, os.path.isdir(local))
        if not fs.exists(local):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        info = fs.info(local)
    is_directory = info.get("type") == "directory"
    return FileStatistics(int(info.get("size") or 0), _mtime_nsec(info), is_directory)


def _mtime_nsec(info):
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        stamp = info.get(key)
        if stamp is None:
            continue
        if hasattr(stamp, "timestamp"):
            stamp = stamp.timestamp()
        try:
            return int(float(stamp) * 1e9)
        except (TypeError, ValueError):
            continue
    return 0


def walk(top, topdown=True, onerror=None):
    """Yield (dirname, subdirectory names, file names) for `top` and every directory below."""
    top = path_str(top)
    try:
        names = listdir(top)
    except errors.NotFoundError as error:
        if onerror:
            onerror(error)
        return
    files, subdirs = [], []
    for name in names:
        (subdirs if isdir(join(top, name)) else files).append(name)
    here = (top, subdirs, files)
    if topdown:
        yield here
    for subdir in subdirs:
        yield from walk(join(top, subdir), topdown, onerror)
    if not topdown:
        yield here


def join(path, *paths):
    path = path_str(path)
    if "://" in path:
        return "/".join([path.rstrip("/")] + [path_str(part).strip("/") for part in paths])
    return os.path.join(path, *map(path_str, paths))


# TF1 spellings (tf.gfile.*).
Exists = exists
IsDirectory = isdir
MakeDirs = makedirs
MkDir = mkdir
ListDirectory = listdir
Glob = glob
Remove = remove
DeleteRecursively = rmtree
Rename = rename
Copy = copy
Stat = stat


def Walk(top, in_order=True):
    return walk(top, topdown=in_order)


# ------------------------------------------------------- helpers for the io modules


def read_file(path):
    """The whole file as bytes."""
    fs, local = _split(path)
    with _os_errors_as_op_errors(path):
        if fs is None:
            with open(local, "rb") as handle:
                return handle.read()
        if not fs.isfile(local):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        return fs.cat_file(local)


class RandomAccessFile:
    """Positional reads from one shared, thread-safe handle; `size` is the real file size."""

    def __init__(self, path):
        self.path = path_str(path)
        fs, local = _split(path)
        self._lock = threading.Lock()
        with _os_errors_as_op_errors(self.path):
            if fs is None:
                self._fd = os.open(local, os.O_RDONLY | getattr(os, "O_BINARY", 0))
                self._file = None
                self.size = os.fstat(self._fd).st_size
            else:
                self._fd = None
                if not fs.isfile(local):
                    raise FileNotFoundError(errno.ENOENT, "No such file or directory")
                self._file = fs.open(local, "rb")
                self.size = fs.size(local)

    def read_at(self, offset, length):
        """Up to `length` bytes starting at `offset` (fewer only at end of file)."""
        with _os_errors_as_op_errors(self.path):
            if self._fd is not None and hasattr(os, "pread"):
                chunks = []
                while length > 0:
                    chunk = os.pread(self._fd, length, offset)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    offset += len(chunk)
                    length -= len(chunk)
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            with self._lock:
                if self._fd is not None:
                    os.lseek(self._fd, offset, os.SEEK_SET)
                    return _read_fully(lambda n: os.read(self._fd, n), length)
                self._file.seek(offset)
                return _read_fully(self._file.read, length)

    def readinto_at(self, offset, buffer):
        """Fill `buffer` from `offset`; returns the number of bytes read."""
        view = memoryview(buffer).cast("B")
        filled = 0
        with _os_errors_as_op_errors(self.path):
            if self._fd is not None and hasattr(os, "preadv"):
                while filled < len(view):
                    count = os.preadv(self._fd, [view[filled:]], offset + filled)
                    if count == 0:
                        break
                    filled += count
                return filled
        while filled < len(view):
            chunk = self.read_at(offset + filled, min(len(view) - filled, 1 << 24))
            if not chunk:
                break
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        return filled

    def readinto_many_at(self, offset, buffers):
        """Fill `buffers` (writeable one-dimensional byte buffers, such as uint8 arrays) in
        turn from the bytes at `offset`, with one system call where the platform has preadv;
        returns the number of bytes read."""
        filled = 0
        if self._fd is not None and hasattr(os, "preadv"):
            with _os_errors_as_op_errors(self.path):
                filled = os.preadv(self._fd, buffers, offset)
            if filled == sum(map(len, buffers)):
                return filled
        total = 0
        for view in map(memoryview, buffers):  # after a short read (or without preadv): one by one
            done = min(filled, len(view))
            filled -= done
            if done < len(view):
                done += self.readinto_at(offset + done, view[done:])
            total += done
            offset += done
            if done < len(view):
                break
        return total

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _read_fully(read, length):
    chunks = []
    while length > 0:
        chunk = read(length)
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
    return b"".join(chunks)


_TEMP_SUFFIX = re.compile(r"\.tempstate\d+$")  # TensorFlow's temporary names, and ours.


def _random_temp_name(path):
    return f"{path}.tempstate{int.from_bytes(os.urandom(8), 'little')}"


def _create_locked_temp_file(final_path):
    """(temporary path, open binary file) next to `final_path`, exclusively locked (flock).

    The lock lives as long as the writer: the OS drops it when the process dies, however it
    dies, which is how `remove_abandoned_temp_files` tells an abandoned file from a live one.
    """
    while True:
        temp_path = _random_temp_name(final_path)
        handle = open(temp_path, "xb")
        if fcntl is None:
            return temp_path, handle
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        # A cleaner may have taken the file for abandoned between its creation and our lock.
        try:
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(temp_path)):
                return temp_path, handle
        except FileNotFoundError:
            pass
        handle.close()


def remove_abandoned_temp_files(directory):
    """Delete the temporary files (`*.tempstate<digits>`) of writers that died in local
    `directory`, such as a save killed by SIGKILL or a power cut; returns their paths.

    A live writer holds a lock on its temporary file (see AtomicWriter), so a file that can
    be locked has no writer left. Remote directories are skipped: their writers build files
    locally (see AtomicWriter).
    """
    fs, local = _split(directory)
    if fs is not None or fcntl is None:
        return []
    local = local or "."
    try:
        names = os.listdir(local)
    except OSError:
        return []
    removed = []
    for name in names:
        if not _TEMP_SUFFIX.search(name):
            continue
        path = os.path.join(local, name)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue  # committed or removed meanwhile, or not a regular file
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                os.remove(path)
                removed.append(path)
        except OSError:
            pass  # locked by a live writer, or gone meanwhile
        finally:
            os.close(fd)
    return removed


_WRITE_BACK_BYTES = 8 << 20
_SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>: start writing dirty pages of the range, do not wait
_sync_file_range = None  # Linux's sync_file_range through ctypes, looked up on first use


def _write_back_function():
    """sync_file_range(fd, offset, length, flags), or False where the C library lacks it."""
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                function = ctypes.CDLL(None, use_errno=True).sync_file_range
            except (OSError, AttributeError):
                return False
            function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
            function.restype = ctypes.c_int
            _sync_file_range = function
    return _sync_file_range


class AtomicWriter:
    """Write a file so that its final name only ever holds complete content.

    Local files are written under a temporary name in the same directory (holding a lock on
    it, see `remove_abandoned_temp_files`), flushed, fsynced and renamed over the final name
    by `commit()`. Remote files are built in a local temporary file, uploaded under a
    temporary name and moved over the final name by `commit()`: some fsspec file systems
    publish a file as soon as it is opened, or when its writing fails, so writing to the
    final name directly could replace good content with a partial file.
    `abort()` (or leaving a `with` block by an exception) removes the temporary files.
    """

    def __init__(self, path):
        self.path = path_str(path)
        self._fs, self._local = _split(path)
        self._written_back = 0  # bytes whose write-back to disk has been started
        with _os_errors_as_op_errors(self.path):
            if self._fs is None:
                self._temp_path, self._file = _create_locked_temp_file(self._local)
            else:
                import tempfile

                self._temp_path = None
                self._file = tempfile.TemporaryFile()

    def write(self, data):
        with _os_errors_as_op_errors(self.path):
            self._file.write(data)
            if self._fs is None:
                self._start_write_back()

    def _start_write_back(self):
        """Once a few MiB were written, have the kernel start writing them to disk, so that
        the disk works while the rest is written and the final fsync has less left to wait
        for; a large file is otherwise flushed at fsync, or throttled once much is dirty."""
        end = self._file.tell()
        if end - self._written_back < _WRITE_BACK_BYTES:
            return
        write_back = _write_back_function()
        if write_back:
            self._file.flush()
            # Only a hint: a failure to write shows at the fsync of commit().
            write_back(self._file.fileno(), self._written_back, end - self._written_back, _SYNC_FILE_RANGE_WRITE)
        self._written_back = end

    def tell(self):
        return self._file.tell()

    def sync(self):
        """Make the content written so far durable (local files), so that `commit()` is quick."""
        if self._fs is None:
            with _os_errors_as_op_errors(self.path):
                self._file.flush()
                os.fsync(self._file.fileno())

    def commit(self):
        """Publish the content under the final name; on failure the temporary file is removed."""
        try:
            self._publish()
        except BaseException:
            self.abort()
            raise

    def _publish(self):
        with _os_errors_as_op_errors(self.path):
            if self._fs is None:
                self._file.flush()
                os.fsync(self._file.fileno())
                replaced = _keep_large_file_alive(self._local)
                try:
                    if fcntl is None:  # A file open elsewhere cannot be renamed on Windows.
                        self._file.close()
                        os.replace(self._temp_path, self._local)
                    else:  # Renamed before closing: the lock must outlive the temporary name.
                        os.replace(self._temp_path, self._local)
                        self._file.close()
                except BaseException:
                    if replaced is not None:
                        _delete_in_background(replaced)  # only its second name goes
                    raise
                self._temp_path = None
                _fsync_directory(os.path.dirname(self._local) or ".")
                if replaced is not None:
                    _delete_in_background(replaced)
            else:
                self._upload_and_move()

    def _upload_and_move(self):
        import shutil

        remote_temp = _random_temp_name(self._local)
        self._file.seek(0)
        try:
            remote = self._fs.open(remote_temp, "wb")
            try:
                shutil.copyfileobj(self._file, remote, 1 << 22)
            except BaseException:
                # Closing would publish what was written so far; discarding aborts the upload.
                getattr(remote, "discard", remote.close)()
                raise
            remote.close()
            self._fs.mv(remote_temp, self._local)
        except BaseException:
            with contextlib.suppress(Exception):
                if self._fs.exists(remote_temp):
                    self._fs.rm_file(remote_temp)
            raise
        self._file.close()

    def abort(self):
        if self._temp_path is not None:
            # Removed before the file is closed, which releases the lock (see __init__).
            with contextlib.suppress(OSError):
                os.remove(self._temp_path)
            self._temp_path = None
        # Closing flushes what is buffered, which fails again on a full disk: nothing to keep.
        with contextlib.suppress(OSError):
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            self.commit()
        else:
            self.abort()


_LARGE_FILE_BYTES = 64 << 20


def _keep_large_file_alive(path):
    """A second name (a temporary one) for `path` if it is a large file, else None.

    Renaming over a file frees its blocks and cached pages inside the rename (~0.2 s per
    GiB); with a second name the rename only drops a link, and the file is deleted later
    by `_delete_in_background`. A crash in between leaves the temporary name, which the next
    writer in the directory removes (see `remove_abandoned_temp_files`).
    """
    if fcntl is None:
        return None
    try:
        if os.stat(path).st_size < _LARGE_FILE_BYTES:
            return None
        doomed = _random_temp_name(path)
        os.link(path, doomed)
    except OSError:  # absent, or hard links unsupported: the rename frees it
        return None
    return doomed


def _delete_in_background(path):
    """Unlink `path` on a thread (the interpreter waits for it at exit)."""
    def delete():
        with contextlib.suppress(OSError):
            os.remove(path)

    threading.Thread(target=delete, name="tensorkeep-delete-replaced-file").start()


def _fsync_directory(directory):
    """Make a rename durable; not every platform can open a directory, which is harmless."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file_atomically(path, data):
    with AtomicWriter(path) as writer:
        writer.write(data)
