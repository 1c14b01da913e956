"""The Hub test server, driven by the real huggingface_hub client and Keras over real HTTP.

HF_ENDPOINT / HF_HOME are set by tests/conftest.py before huggingface_hub is imported.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, ModelCard, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile

from hub_server import HubServer, filter_requests

TESTS_DIR = Path(__file__).resolve().parent
MiB = 1024 * 1024


# --------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alice(hub: HubServer) -> HfApi:
    return HfApi(token="hf_alice")


@pytest.fixture(scope="module")
def bob(hub: HubServer) -> HfApi:
    return HfApi(token="hf_bob")


@pytest.fixture(scope="module")
def anonymous(hub: HubServer) -> HfApi:
    return HfApi(token=False)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def new_repo(alice: HfApi) -> Callable[..., str]:
    """Factory: create a fresh repo of alice's and return its id."""

    def create(private: bool = False) -> str:
        return alice.create_repo(f"alice/{unique_name('repo')}", private=private).repo_id

    return create


def sample_files() -> dict[str, bytes]:
    """Files exercising each upload-mode rule of the Hub's preupload."""
    text_lines = b"".join(b"line %08d: facerec embeddings are L2-normalised\n" % i for i in range(210_000))
    return {
        "README.md": b"---\nlibrary_name: facerec\ntags:\n- face-recognition\n---\n# Test model\n",
        "a.txt": b"hello facerec\n",
        "sub/config.json": json.dumps({"embedding_dim": 128}).encode(),
        "small.h5": b"matched by the *.h5 LFS pattern of .gitattributes\n",  # LFS by pattern
        "blob.dat": bytes(range(256)) * 4,  # LFS because binary
        "floats.raw": struct.pack("<65536f", *(i * 0.25 for i in range(65536))),  # binary, compressible
        "big.txt": text_lines,  # > 10 MiB of text: LFS by size only
        "big.bin": os.urandom(11 * MiB),  # > 10 MiB binary
    }


REGULAR = {"README.md", "a.txt", "sub/config.json"}


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    return root


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pushed(hub: HubServer, alice: HfApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A public repo of alice's, pushed once with `upload_folder` (Xet + regular files)."""
    files = sample_files()
    folder = write_tree(tmp_path_factory.mktemp("pushed"), files)
    repo_id = alice.create_repo(f"alice/{unique_name('pushed')}").repo_id
    hub.clear_requests()
    commit = alice.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="Add sample files")
    yield {"repo_id": repo_id, "files": files, "commit": commit, "requests": list(hub.requests)}


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a fresh interpreter (env vars read at import time take effect there)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=TESTS_DIR,
    )


# --------------------------------------------------------------------------------------------
# Push and pull
# --------------------------------------------------------------------------------------------


def test_upload_folder_goes_through_preupload_xet_and_commit(pushed: dict) -> None:
    requests = pushed["requests"]
    repo_api = f"/api/models/{pushed['repo_id']}"
    expected = [
        ("hub", "POST", f"^{repo_api}/preupload/main$"),
        ("hub", "GET", f"^{repo_api}/xet-write-token/main$"),
        ("cdn", "POST", r"^/v1/xorbs/default/[0-9a-f]{64}$"),
        ("cdn", "POST", r"^/v[12]/shards$"),
        ("hub", "POST", f"^{repo_api}/commit/main$"),
    ]
    for origin, method, pattern in expected:
        assert [r.status for r in filter_requests(requests, method, pattern, origin)] == [200], pattern
    assert all(r.status < 500 for r in requests)
    assert len(pushed["commit"].oid) == 40


def test_files_are_stored_regular_or_lfs_like_on_the_hub(pushed: dict, alice: HfApi) -> None:
    infos = alice.get_paths_info(pushed["repo_id"], list(pushed["files"]))
    by_path = {info.path: info for info in infos}
    assert set(by_path) == set(pushed["files"])
    for path, content in pushed["files"].items():
        info = by_path[path]
        assert isinstance(info, RepoFile) and info.size == len(content)
        if path in REGULAR:
            assert info.lfs is None and info.xet_hash is None
            assert info.blob_id == hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        else:
            assert info.lfs is not None and info.lfs.sha256 == hashlib.sha256(content).hexdigest()
            assert info.xet_hash is not None


def test_hf_hub_download_returns_identical_bytes(pushed: dict) -> None:
    for path, content in pushed["files"].items():
        local = hf_hub_download(pushed["repo_id"], path, token="hf_alice")
        assert Path(local).read_bytes() == content, path


def test_snapshot_download_returns_identical_tree(pushed: dict, alice: HfApi) -> None:
    folder = Path(snapshot_download(pushed["repo_id"], token="hf_alice"))
    downloaded = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert downloaded == set(pushed["files"]) | {".gitattributes"}
    for path, content in pushed["files"].items():
        assert (folder / path).read_bytes() == content, path
    assert folder.name == alice.model_info(pushed["repo_id"]).sha


def test_repo_listing_and_info(pushed: dict, alice: HfApi) -> None:
    repo_id = pushed["repo_id"]
    assert sorted(alice.list_repo_files(repo_id)) == sorted([".gitattributes", *pushed["files"]])
    top = {entry.path for entry in alice.list_repo_tree(repo_id)}
    assert "sub" in top and "sub/config.json" not in top
    assert [e.path for e in alice.list_repo_tree(repo_id, path_in_repo="sub")] == ["sub/config.json"]
    info = alice.model_info(repo_id, files_metadata=True)
    assert info.sha == pushed["commit"].oid and info.private is False
    assert info.card_data is not None and info.card_data.library_name == "facerec"
    assert {s.rfilename for s in info.siblings or []} == {".gitattributes", *pushed["files"]}
    assert ModelCard.load(repo_id, token="hf_alice").data.tags == ["face-recognition"]
    assert alice.file_exists(repo_id, "sub/config.json") and not alice.file_exists(repo_id, "nope.txt")


def test_plain_http_gets_lfs_content_through_a_cross_origin_redirect(hub: HubServer, pushed: dict) -> None:
    url = f"{hub.endpoint}/{pushed['repo_id']}/resolve/main/big.txt"
    head = httpx.head(url)
    content = pushed["files"]["big.txt"]
    assert head.status_code == 302
    assert head.headers["Location"].startswith(hub.cdn_endpoint)
    assert head.headers["X-Linked-Etag"] == f'"{hashlib.sha256(content).hexdigest()}"'
    assert head.headers["X-Linked-Size"] == str(len(content))
    assert head.headers["X-Repo-Commit"] == pushed["commit"].oid
    assert "X-Xet-Hash" in head.headers and 'rel="xet-auth"' in head.headers["Link"]
    for path in ("big.txt", "floats.raw"):  # rebuilt from (LZ4 / byte-grouped) xorb chunks
        response = httpx.get(f"{hub.endpoint}/{pushed['repo_id']}/resolve/main/{path}", follow_redirects=True)
        assert response.content == pushed["files"][path], path
    ranged = httpx.get(head.headers["Location"], headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == content[100:200]


def test_file_objects_use_the_lfs_batch_api_and_basic_transfer(
    hub: HubServer, alice: HfApi, new_repo: Callable[..., str]
) -> None:
    repo_id = new_repo()
    content = bytes(range(256)) * 64  # binary => LFS; a file object => no Xet
    hub.clear_requests()
    alice.upload_file(repo_id=repo_id, path_or_fileobj=io.BytesIO(content), path_in_repo="weights.dat")
    assert hub.hits("POST", r"\.git/info/lfs/objects/batch$")
    assert hub.hits("PUT", r"^/lfs-upload/", origin="cdn")
    assert hub.hits("POST", r"\.git/info/lfs/objects/verify$")
    assert not hub.hits(pattern="xet-write-token")

    hub.clear_requests()
    local = hf_hub_download(repo_id, "weights.dat", token="hf_alice")
    assert Path(local).read_bytes() == content
    assert hub.hits("HEAD", r"/resolve/main/weights\.dat$")[0].status == 302
    assert hub.hits("GET", r"^/blobs/", origin="cdn")

    hub.clear_requests()  # same content again: the batch API answers "already there"
    alice.upload_file(repo_id=repo_id, path_or_fileobj=io.BytesIO(content), path_in_repo="copy.dat")
    assert not hub.hits("PUT", r"^/lfs-upload/")
    assert alice.get_paths_info(repo_id, "copy.dat")[0].lfs.sha256 == hashlib.sha256(content).hexdigest()


def test_second_commit_updates_main_and_old_commit_stays_readable(alice: HfApi, new_repo: Callable[..., str]) -> None:
    repo_id = new_repo()
    first = alice.upload_file(repo_id=repo_id, path_or_fileobj=b"version 1\n", path_in_repo="model.txt")
    second = alice.upload_file(repo_id=repo_id, path_or_fileobj=b"version 2\n", path_in_repo="model.txt")
    alice.upload_file(repo_id=repo_id, path_or_fileobj=b"extra\n", path_in_repo="extra.txt")
    alice.delete_file("extra.txt", repo_id=repo_id)
    assert first.oid != second.oid
    assert Path(hf_hub_download(repo_id, "model.txt", token="hf_alice")).read_bytes() == b"version 2\n"
    old = hf_hub_download(repo_id, "model.txt", revision=first.oid, token="hf_alice")
    assert Path(old).read_bytes() == b"version 1\n"
    assert alice.model_info(repo_id, revision=first.oid).sha == first.oid
    assert "extra.txt" not in alice.list_repo_files(repo_id)
    history = [c.commit_id for c in alice.list_repo_commits(repo_id)]
    assert history[2:4] == [second.oid, first.oid] and len(history) == 5
    assert alice.list_repo_refs(repo_id).branches[0].target_commit == history[0]


def test_unchanged_files_are_not_committed_again(alice: HfApi, new_repo: Callable[..., str], tmp_path: Path) -> None:
    repo_id = new_repo()
    folder = write_tree(tmp_path, {"a.txt": b"same\n", "b.bin": os.urandom(2048)})
    first = alice.upload_folder(repo_id=repo_id, folder_path=folder)
    again = alice.upload_folder(repo_id=repo_id, folder_path=folder)
    assert again.oid == first.oid


# --------------------------------------------------------------------------------------------
# Errors and access control
# --------------------------------------------------------------------------------------------


def test_create_repo_conflict_and_exist_ok(alice: HfApi) -> None:
    repo_id = f"alice/{unique_name('dup')}"
    alice.create_repo(repo_id)
    with pytest.raises(HfHubHTTPError) as conflict:
        alice.create_repo(repo_id)
    assert conflict.value.response.status_code == 409
    assert alice.create_repo(repo_id, exist_ok=True).repo_id == repo_id
    assert alice.repo_exists(repo_id)
    alice.delete_repo(repo_id)
    assert not alice.repo_exists(repo_id)


def test_private_repo_is_hidden_from_others(
    alice: HfApi, bob: HfApi, anonymous: HfApi, new_repo: Callable[..., str], tmp_path: Path
) -> None:
    repo_id = new_repo(private=True)
    alice.upload_file(repo_id=repo_id, path_or_fileobj=b"secret\n", path_in_repo="secret.txt")
    assert Path(hf_hub_download(repo_id, "secret.txt", token="hf_alice")).read_bytes() == b"secret\n"
    assert alice.model_info(repo_id).private is True
    for token in ("hf_bob", False):
        # A cache of their own: the client would otherwise fall back to alice's cached copy.
        with pytest.raises(RepositoryNotFoundError) as hidden:
            hf_hub_download(repo_id, "secret.txt", token=token, cache_dir=tmp_path / str(token))
        assert hidden.value.response.status_code == 404
        assert hidden.value.response.headers["X-Error-Code"] == "RepoNotFound"
    for api in (bob, anonymous):
        assert not api.repo_exists(repo_id)
        with pytest.raises(RepositoryNotFoundError):
            api.list_repo_files(repo_id)


def test_writes_need_a_valid_token_for_the_namespace(
    alice: HfApi, bob: HfApi, anonymous: HfApi, new_repo: Callable[..., str]
) -> None:
    repo_id = new_repo()
    invalid = HfApi(token="hf_not_a_token")
    cases: list[tuple[Callable[[], object], int]] = [
        (lambda: anonymous.create_repo(f"alice/{unique_name('anon')}"), 401),
        (lambda: invalid.create_repo(f"alice/{unique_name('bad')}"), 401),
        (lambda: anonymous.upload_file(repo_id=repo_id, path_or_fileobj=b"x", path_in_repo="x.txt"), 401),
        (lambda: invalid.upload_file(repo_id=repo_id, path_or_fileobj=b"x", path_in_repo="x.txt"), 401),
        (lambda: bob.upload_file(repo_id=repo_id, path_or_fileobj=b"x", path_in_repo="x.txt"), 403),
        (lambda: bob.create_repo(f"alice/{unique_name('bob')}"), 403),
    ]
    for call, status in cases:
        with pytest.raises(HfHubHTTPError) as refused:
            call()
        assert refused.value.response.status_code == status
    assert alice.list_repo_files(repo_id) == [".gitattributes"]


def test_invalid_token_on_read_is_401_not_repo_not_found(pushed: dict, tmp_path: Path) -> None:
    with pytest.raises(HfHubHTTPError) as refused:
        hf_hub_download(pushed["repo_id"], "a.txt", token="hf_not_a_token", cache_dir=tmp_path)
    assert refused.value.response.status_code == 401
    assert not isinstance(refused.value, RepositoryNotFoundError)
    with pytest.raises(HfHubHTTPError):
        HfApi(token="hf_not_a_token").whoami()
    assert HfApi(token="hf_bob").whoami()["name"] == "bob"


def test_missing_repo_file_and_revision_raise_the_client_errors(pushed: dict, alice: HfApi) -> None:
    repo_id = pushed["repo_id"]
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(f"alice/{unique_name('missing')}", "a.txt", token="hf_alice")
    with pytest.raises(RepositoryNotFoundError):
        alice.model_info(f"alice/{unique_name('missing')}")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.txt", token="hf_alice")
    with pytest.raises(EntryNotFoundError):
        list(alice.list_repo_tree(repo_id, path_in_repo="missing-folder"))
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "a.txt", revision="no-such-branch", token="hf_alice")
    with pytest.raises(RevisionNotFoundError):
        alice.model_info(repo_id, revision="0" * 40)


def test_commit_rules_are_enforced_server_side(hub: HubServer, new_repo: Callable[..., str]) -> None:
    repo_id = new_repo()
    url = f"{hub.endpoint}/api/models/{repo_id}/commit/main"
    headers = {"Authorization": "Bearer hf_alice", "Content-Type": "application/x-ndjson"}

    def commit(*operations: dict) -> httpx.Response:
        lines = [{"key": "header", "value": {"summary": "raw commit"}}, *operations]
        return httpx.post(url, headers=headers, content="\n".join(json.dumps(line) for line in lines))

    unknown_lfs = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": "ab" * 32, "size": 3}}
    binary_inline = {"key": "file", "value": {"path": "b.bin", "content": "AAEC", "encoding": "base64"}}
    escaping = {"key": "file", "value": {"path": "../x.txt", "content": "eA==", "encoding": "base64"}}
    for operation in (unknown_lfs, binary_inline, escaping):
        response = commit(operation)
        assert response.status_code == 400 and response.headers["X-Error-Message"]
    assert commit({"key": "deletedFile", "value": {"path": "nope.txt"}}).headers["X-Error-Code"] == "EntryNotFound"
    text_inline = {"key": "file", "value": {"path": "ok.txt", "content": "b2sK", "encoding": "base64"}}
    assert commit(text_inline).json()["commitOid"] == HfApi(token="hf_alice").model_info(repo_id).sha


# --------------------------------------------------------------------------------------------
# Server lifecycle: offline cache, persistence, pagination, standalone process
# --------------------------------------------------------------------------------------------


def test_offline_reload_from_cache_with_server_stopped(hub: HubServer, pushed: dict) -> None:
    snapshot_download(pushed["repo_id"], token="hf_alice")
    expected = {path: hashlib.sha256(content).hexdigest() for path, content in pushed["files"].items()}
    script = f"""
        import hashlib, json, pathlib
        from huggingface_hub import hf_hub_download, snapshot_download
        folder = pathlib.Path(snapshot_download({pushed["repo_id"]!r}))
        hashes = {{p: hashlib.sha256((folder / p).read_bytes()).hexdigest() for p in {list(expected)!r}}}
        assert pathlib.Path(hf_hub_download({pushed["repo_id"]!r}, "a.txt")).read_bytes() == b"hello facerec\\n"
        print(json.dumps(hashes))
    """
    with hub.stopped():
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{hub.endpoint}/api/whoami-v2")
        result = run_python(script, {"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == expected
    assert HfApi(token="hf_alice").whoami()["name"] == "alice"  # served again after the block


def test_storage_dir_survives_a_new_server_and_tree_pages(tmp_path: Path) -> None:
    files = {f"data/{i}.txt": f"row {i}\n".encode() for i in range(5)}
    with HubServer(tokens={"hf_carol": "carol"}, storage_dir=tmp_path / "hub", tree_page_size=2) as first:
        api = HfApi(endpoint=first.endpoint, token="hf_carol")
        api.create_repo("carol/kept")
        commit = api.upload_folder(repo_id="carol/kept", folder_path=write_tree(tmp_path / "src", files))
        assert sorted(api.list_repo_files("carol/kept")) == sorted([".gitattributes", *files])
        assert len(first.hits("GET", r"/tree/")) == 4  # .gitattributes, data/ and 5 files: 2 per page
    with HubServer(tokens={"hf_carol": "carol"}, storage_dir=tmp_path / "hub") as second:
        api = HfApi(endpoint=second.endpoint, token="hf_carol")
        assert api.model_info("carol/kept").sha == commit.oid
        local = hf_hub_download("carol/kept", "data/3.txt", endpoint=second.endpoint, token="hf_carol",
                                cache_dir=tmp_path / "cache")  # fmt: skip
        assert Path(local).read_bytes() == b"row 3\n"


def test_standalone_server_process(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, str(TESTS_DIR / "hub_server.py"), "--port", "0", "--token", "hf_dave:dave"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        endpoint = line.split()[2]
        response = httpx.get(f"{endpoint}/api/whoami-v2", headers={"Authorization": "Bearer hf_dave"})
        assert response.json()["name"] == "dave"
        assert httpx.get(f"{endpoint}/api/models/dave/none").headers["X-Error-Code"] == "RepoNotFound"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_request_log_holds_no_token(hub: HubServer, pushed: dict) -> None:
    recorded = repr(hub.requests)
    assert hub.requests and all(token not in recorded for token in hub.tokens)


# --------------------------------------------------------------------------------------------
# Keras 3 hf:// paths
# --------------------------------------------------------------------------------------------


def test_keras_model_round_trips_through_hf_paths(alice: HfApi) -> None:
    repo_id = f"alice/{unique_name('tiny')}"
    script = f"""
        import numpy as np, keras
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2)])
        x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
        model.save("hf://{repo_id}")
        loaded = keras.saving.load_model("hf://{repo_id}")
        np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
        print("round trip ok")
    """
    result = run_python(script, {"HF_TOKEN": "hf_alice", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("round trip ok")
    assert {"config.json", "metadata.json", "model.weights.h5", "README.md"} <= set(alice.list_repo_files(repo_id))
    assert alice.get_paths_info(repo_id, "model.weights.h5")[0].lfs is not None
    assert ModelCard.load(repo_id, token="hf_alice").data.library_name == "keras"
