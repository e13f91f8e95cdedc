"""`get_file`: download a file once into the ckeras cache (`~/.ckeras`, or `$CKERAS_HOME`), verify it,
and optionally extract an archive; plus the hashing helpers it uses.

Writes are atomic: the download goes to a temporary file beside the target, is checked against the
expected hash, and only then renamed into place, so the cache never holds a half-written file.
"""
import hashlib
import os
import shutil
import tempfile
import zipfile

from ckeras import config

__all__ = ["get_file", "hash_file", "validate_file"]

_TIMEOUT_S = 60.0  # per blocking network operation
_CHUNK = 1 << 16


def _resolve_hasher(algorithm, file_hash=None):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None and len(file_hash) == 64):
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()
    raise ValueError(f"Unknown `hash_algorithm`: {algorithm}. Expected 'auto', 'sha256' or 'md5'")


def _algorithm_name(algorithm, file_hash):
    return _resolve_hasher(algorithm, file_hash).name


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK):
    """The hex digest of a file (`"sha256"`, `"md5"`, or a `hashlib` object)."""
    hasher = _resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK):
    """True when the file's hash equals `file_hash` (sha256 for 64 hex digits, md5 otherwise)."""
    digest = hash_file(fpath, _resolve_hasher(algorithm, file_hash), chunk_size)
    return digest == str(file_hash).lower()


def _cache_dir(cache_dir, cache_subdir):
    base = os.path.expanduser(cache_dir) if cache_dir is not None else config._ckeras_home()
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join(tempfile.gettempdir(), ".ckeras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    return datadir


def _download(origin, target):
    import http.client  # network modules load on first download, not with `import ckeras` (~30 ms)
    import urllib.error
    import urllib.request
    """Streams `origin` into a temporary file beside `target`; returns the temporary path."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=os.path.basename(target) + ".",
                               suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin, timeout=_TIMEOUT_S) as resp:
            expected, received = resp.headers.get("Content-Length"), 0
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                out.write(chunk)
                received += len(chunk)
            if expected is not None and expected.isdigit() and received != int(expected):
                # urllib returns a short body without complaint when the server hangs up early.
                raise http.client.HTTPException(f"connection closed after {received} of {expected} bytes")
    except BaseException as e:
        os.remove(tmp)
        if isinstance(e, urllib.error.HTTPError):
            reason = f"{e.code} -- {e.reason}"
        elif isinstance(e, (urllib.error.URLError, OSError, http.client.HTTPException)):
            reason = str(getattr(e, "reason", None) or e) or type(e).__name__
        else:
            raise
        raise ConnectionError(
            f"URL fetch failure on {origin}: {reason}. Check the network, or place the file at "
            f"{target} yourself (set `CKERAS_HOME` to move the cache).") from e
    return tmp


def _safe_member(name, dest):
    """The absolute path of archive member `name` under `dest`; raises if it would land outside."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\0" in name or ":" in name:
        raise ValueError(f"Refusing to extract archive member with an invalid member path: {name!r}")
    path = os.path.realpath(os.path.join(dest, name))
    if os.path.commonpath([path, os.path.realpath(dest)]) != os.path.realpath(dest):
        raise ValueError(f"Refusing to extract archive member with an invalid member path: {name!r}")
    return path


def _extract(archive, dest, archive_format):
    import tarfile
    """Extracts a tar or zip archive into `dest` (built in a temporary folder, then renamed)."""
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [] if archive_format is None else [archive_format] if isinstance(archive_format, str)
        else list(archive_format))
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise ValueError(f"Unknown `archive_format`: {kind}. Expected 'auto', 'tar', 'zip' or None")
        if not (tarfile.is_tarfile if kind == "tar" else zipfile.is_zipfile)(archive):
            continue
        tmp = tempfile.mkdtemp(dir=os.path.dirname(dest), prefix=os.path.basename(dest) + ".")
        try:
            if kind == "tar":
                with tarfile.open(archive) as tar:
                    for m in tar.getmembers():
                        _safe_member(m.name, tmp)
                        if not (m.isfile() or m.isdir()):
                            raise ValueError(f"Refusing to extract archive member {m.name!r}: only "
                                             "regular files and folders are extracted")
                    if hasattr(tarfile, "data_filter"):  # Python 3.12, 3.11.4, 3.10.12, 3.9.17 on
                        tar.extractall(tmp, filter="data")
                    else:
                        tar.extractall(tmp)
            else:
                with zipfile.ZipFile(archive) as zf:
                    for name in zf.namelist():
                        _safe_member(name, tmp)
                    zf.extractall(tmp)
            if os.path.isdir(dest):
                shutil.rmtree(dest)
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return True
    return False


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None,
             force_download=False):
    """Downloads a file from a URL unless it is already in the cache, and returns its local path.

    The file lands in `cache_dir/cache_subdir/fname` (default `~/.ckeras/datasets/fname`, or under
    `$CKERAS_HOME`). A cached file whose hash does not match `file_hash` is downloaded again.

    Args:
        fname: Local file name; None takes the last part of `origin`'s path.
        origin: URL of the file (`http(s)://` or `file://`).
        untar: Deprecated; same as `extract=True, archive_format="tar"`.
        md5_hash: Deprecated; use `file_hash`.
        file_hash: Expected sha256 (64 hex digits) or md5 hash of the downloaded file.
        cache_subdir: Folder under the cache root (an absolute path is used as is).
        hash_algorithm: `"auto"`, `"sha256"` or `"md5"`.
        extract: Whether to extract a tar or zip archive; the folder it was extracted to is returned.
        archive_format: `"auto"` (tar then zip), `"tar"`, `"zip"`, or None.
        cache_dir: Cache root instead of `$CKERAS_HOME` / `~/.ckeras`.
        force_download: Download even when a valid file is cached.
    Returns:
        The path of the downloaded file (or of the extraction folder).
    Raises:
        ValueError: on a hash mismatch (the bad file is deleted) or a bad argument.
        ConnectionError: when the download fails.
    """
    from urllib.parse import urlsplit
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if file_hash is not None:
        _resolve_hasher(hash_algorithm, file_hash)  # validates `hash_algorithm`
    fname = os.fspath(fname) if fname else os.path.basename(urlsplit(origin).path)
    if not fname:
        raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. "
                         "Please specify the `fname` argument.")
    if os.sep in fname or "/" in fname or fname in (".", ".."):
        raise ValueError("Paths are not accepted as the `fname` argument. To choose the file's folder, "
                         f"use the `cache_dir` argument. Received: fname={fname}")
    datadir = _cache_dir(cache_dir, cache_subdir)
    target = os.path.join(datadir, fname)
    extract_dir = None
    if extract or untar:
        stem = fname.split(".", 1)[0]
        extract_dir = os.path.join(datadir, stem + "_extracted" if "." in fname else stem)
        if "." not in fname:
            target = os.path.join(datadir, fname + "_archive")

    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        print(f"A local file was found, but it seems to be incomplete or outdated because the "
              f"{_algorithm_name(hash_algorithm, file_hash)} file hash does not match the original "
              f"value of {file_hash}, so we will re-download the data.")
        download = True
    if download:
        print(f"Downloading data from {origin}")
        tmp = _download(origin, target)
        if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
            actual = hash_file(tmp, _resolve_hasher(hash_algorithm, file_hash))
            os.remove(tmp)
            if os.path.exists(target):
                os.remove(target)  # a cached copy that failed the same check
            raise ValueError(
                f"Incomplete or corrupted file detected. The {_algorithm_name(hash_algorithm, file_hash)} "
                f"file hash of the file downloaded from {origin} is {actual} and does not match the "
                f"provided value of {file_hash}. The bad file was deleted.")
        os.replace(tmp, target)

    if extract_dir is not None:
        if download or not os.path.isdir(extract_dir):
            if not _extract(target, extract_dir, "tar" if untar else archive_format):
                raise ValueError(f"Could not extract {target}: not a tar or zip archive")
        return extract_dir
    return target
