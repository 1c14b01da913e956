"""Saved model folders to and from the Hugging Face Hub (this module knows folders, not models).

    push_folder("my-model/", "alice/my-faces")      # model + metrics.json + README.md, one commit
    folder = download_folder("alice/my-faces")       # cached; facerec.Classifier.load(folder)

``facerec.Classifier.push_to_hub`` and ``from_pretrained`` save and load around these. The
pushed repo is the saved model folder (Keras 3's directory format, so plain Keras loads it with
``keras.saving.load_model("hf://alice/my-faces")``), a ``metrics.json`` and a model card.

Tokens come from the ``token`` argument, else from huggingface_hub's own lookup (``HF_TOKEN``, the
stored ``hf auth login``). facerec hands them to huggingface_hub and nothing else: never to a file,
a log, an exception or ``os.environ``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from huggingface_hub import CommitOperationAdd, HfApi, ModelInfo, constants, get_token, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    HTTPError,  # httpx's base class: connection errors and HfHubHTTPError alike
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from facerec._version import __version__
from facerec.config import ModelConfig
from facerec.model_card import is_generated_card, model_card_text

CARD_FILE = "README.md"
METRICS_FILE = "metrics.json"
Result = TypeVar("Result")


class HubError(ValueError):
    """The Hub could not do what was asked; the message says what happened and what to do."""


class CardKeptWarning(UserWarning):
    """A push kept the repo's model card because someone edited it (or facerec did not write it)."""


class PushedCommit(str):
    """The URL of a pushed commit; ``card_kept`` says whether the repo's edited model card was kept."""

    card_kept: bool

    def __new__(cls, url: str, *, card_kept: bool) -> PushedCommit:
        pushed = super().__new__(cls, url)
        pushed.card_kept = card_kept
        return pushed


def push_folder(folder: str | os.PathLike, repo_id: str, *, token: str | None = None, private: bool = False,
                commit_message: str | None = None, overwrite_card: bool = False,
                history: list[dict] | None = None) -> PushedCommit:
    """Push a saved model folder to a Hub model repo, in one commit; returns the commit's URL.

    The commit holds the folder's files, ``metrics.json`` (validation report, dataset counts,
    training settings, and ``history`` when given) and a model card ``README.md``. A card someone
    edited on the Hub is kept, with a :class:`CardKeptWarning` (and ``card_kept`` set on the
    returned :class:`PushedCommit`), unless ``overwrite_card`` is True. Pushing a changed model
    again adds a commit; an unchanged one adds none (the Hub's current commit is returned).

    Args:
        folder: a folder written by :meth:`facerec.Classifier.save` (left unchanged).
        repo_id: ``"namespace/name"``; created if it does not exist.
        token: a Hub token with write access; default: ``HF_TOKEN`` or the stored ``hf auth login``.
        private: create the repo private (an existing repo keeps its visibility).
        commit_message: default: says how many labels and the validation accuracy.
        overwrite_card: replace the model card even if someone edited it.
        history: loss and accuracy per epoch, for ``metrics.json`` (a saved folder does not keep it).

    Raises:
        HubError: no or a refused token, no network, or the Hub refused (the message says what to do).
        ValueError: ``folder`` is not a saved facerec model.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such model folder")
    config = ModelConfig.read(folder)
    files = _model_files(folder)
    api = HfApi(token=token, library_name="facerec", library_version=__version__)
    commit_url, card_kept, repo_id = _calling_hub(
        lambda: _commit_model(api, folder, files, config, repo_id, private=private, overwrite_card=overwrite_card,
                              history=history, commit_message=commit_message or _default_commit_message(config)),
        repo_id=repo_id, token=token, action="push to")
    if card_kept:
        warnings.warn(CardKeptWarning(
            f"{repo_id}: kept its model card ({CARD_FILE}), which was edited on the Hub or not written by facerec; "
            "push with overwrite_card=True to replace it"), stacklevel=3)
    return PushedCommit(commit_url, card_kept=card_kept)


def download_folder(repo_id: str, *, revision: str | None = None, token: str | None = None,
                    cache_dir: str | os.PathLike | None = None) -> Path:
    """A Hub model repo's files in a local folder, downloaded once and cached.

    Args:
        repo_id: ``"namespace/name"``.
        revision: a branch or commit id of the repo (default: its main branch).
        token: for private repos; default: ``HF_TOKEN`` or the stored ``hf auth login``.
        cache_dir: where to download to; default: huggingface_hub's cache (``HF_HOME``). An app
            serving several people gives each their own, so that nobody's download is another's
            offline fallback.

    The download is cached, so a second one costs nothing and works offline
    (``HF_HUB_OFFLINE=1``) once the repo has been downloaded.

    Raises:
        HubError: no such repo or revision, no access, or no network and not in the cache.
        ValueError: not a Hub repo id.
    """
    if not looks_like_repo_id(repo_id):
        raise ValueError(f"{repo_id}: no such model folder, and not a Hub repo id (namespace/name)")
    return Path(_calling_hub(lambda: _download(repo_id, revision=revision, token=token, cache_dir=cache_dir),
                             repo_id=repo_id, token=token, action="download", revision=revision))


def looks_like_repo_id(text: str) -> bool:
    """Whether ``text`` has the form of a Hub repo id with a namespace (``"alice/my-faces"``)."""
    if text.count("/") != 1:
        return False
    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return True


# Pulling -------------------------------------------------------------------------------------


def _download(repo_id: str, *, revision: str | None, token: str | None, cache_dir: str | os.PathLike | None) -> str:
    """The repo's files in huggingface_hub's cache, downloading what is missing.

    snapshot_download alone falls back to the cache whenever the Hub answers with an error, even
    "no such repo" or "not allowed". facerec asks the Hub first and obeys a refusal: with a cache
    shared between users (a Space), one user's private model must not load for another.
    Without a network (or with HF_HUB_OFFLINE), the cache is used.
    """
    if not constants.HF_HUB_OFFLINE:
        try:
            HfApi(token=token).model_info(repo_id, revision=revision)
        except HTTPError as error:
            if _is_refusal(error):
                raise
    return snapshot_download(repo_id, revision=revision, token=token, cache_dir=cache_dir,
                             library_name="facerec", library_version=__version__)


def _is_refusal(error: HTTPError) -> bool:
    if isinstance(error, (RepositoryNotFoundError, RevisionNotFoundError)):
        return True
    return isinstance(error, HfHubHTTPError) and error.response is not None and error.response.status_code in (401, 403)


# Pushing -------------------------------------------------------------------------------------


def _commit_model(api: HfApi, folder: Path, files: list[Path], config: ModelConfig, repo_id: str, *, private: bool,
                  overwrite_card: bool, history: list[dict] | None, commit_message: str) -> tuple[str, bool, str]:
    repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
    info = api.model_info(repo_id)
    current_card = _current_card(api, repo_id, info)
    card_kept = current_card is not None and not overwrite_card and not is_generated_card(current_card)
    operations = [CommitOperationAdd(path.relative_to(folder).as_posix(), str(path)) for path in files]
    operations.append(CommitOperationAdd(METRICS_FILE, _metrics_json(config, history).encode("utf-8")))
    if not card_kept:
        card = model_card_text(config, repo_id, private=bool(info.private))
        operations.append(CommitOperationAdd(CARD_FILE, card.encode("utf-8")))
    # parent_commit: if the card was edited after we read it, the Hub refuses the commit
    # rather than let it overwrite the edit.
    commit = api.create_commit(repo_id, operations, commit_message=commit_message, parent_commit=info.sha)
    return str(commit.commit_url), card_kept, repo_id


def _current_card(api: HfApi, repo_id: str, info: ModelInfo) -> str | None:
    if CARD_FILE not in {sibling.rfilename for sibling in info.siblings or []}:
        return None
    path = api.hf_hub_download(repo_id, CARD_FILE, revision=info.sha)
    return Path(path).read_text(encoding="utf-8", errors="replace")


def _model_files(folder: Path) -> list[Path]:
    """The saved model's files; not hidden ones (``.gitattributes`` of a downloaded copy) nor the
    card and metrics, which are generated afresh."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts) \
                and relative.as_posix() not in (CARD_FILE, METRICS_FILE):
            files.append(path)
    return files


def _metrics_json(config: ModelConfig, history: list[dict] | None) -> str:
    """``metrics.json``: what the validation measured and how the model was trained.

    ``history`` (loss and accuracy per epoch) is known only when pushing a just-trained
    Classifier; a saved folder does not keep it.
    """
    record = {
        "labels": config.labels,
        "accuracy": config.metrics.get("accuracy"),
        "validation": config.metrics,
        "dataset": config.dataset,
        "training": config.training,
        "backbone": config.backbone,
        "backbone_weights": config.backbone_weights,
    }
    if history:
        record["history"] = history
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def _default_commit_message(config: ModelConfig) -> str:
    accuracy = config.metrics.get("accuracy")
    measured = f"validation accuracy {accuracy:.3f}" if accuracy is not None else "no validation"
    return f"Push facerec model: {len(config.labels)} labels, {measured}"


# Errors --------------------------------------------------------------------------------------


def _calling_hub(call: Callable[[], Result], *, repo_id: str, token: str | None, action: str,
                 revision: str | None = None) -> Result:
    """Run ``call``, turning huggingface_hub's errors into a one-line :class:`HubError`.

    The HubError is raised outside the ``except`` block on purpose: it then carries no
    ``__context__``, so the original error (whose request holds the Authorization header) does
    not travel with it.
    """
    try:
        return call()
    except Exception as error:  # noqa: BLE001 (sorted below; anything else is re-raised)
        message = _error_message(error, repo_id=repo_id, token=token, action=action, revision=revision)
        if message is None:
            raise
    raise HubError(message)


def _error_message(error: Exception, *, repo_id: str, token: str | None, action: str,
                   revision: str | None) -> str | None:
    downloading = action == "download"
    if isinstance(error, HFValidationError):
        return f"{repo_id!r} is not a valid Hub repo id: use namespace/name (letters, digits, '-', '_', '.')"
    if isinstance(error, RevisionNotFoundError):
        return f"{repo_id} has no revision {revision!r}: use a branch name or a commit id from its history"
    if isinstance(error, GatedRepoError):
        return f"{repo_id} is gated: request access on its Hub page, then pass a token of the account that has it"
    if isinstance(error, RepositoryNotFoundError):
        return (f"{repo_id}: no such model repo on the Hub, or it is private and {_whose_token(token)} cannot read it; "
                "check the name, or pass a token that can read it (token=, HF_TOKEN or `hf auth login`)")
    if isinstance(error, (OfflineModeIsEnabled, LocalEntryNotFoundError)) or \
            (isinstance(error, HTTPError) and not isinstance(error, HfHubHTTPError)):
        return _unreachable_message(repo_id, downloading)
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        return _http_error_message(error, repo_id=repo_id, token=token, action=action)
    return None


def _unreachable_message(repo_id: str, downloading: bool) -> str:
    if constants.HF_HUB_OFFLINE:
        if downloading:
            return (f"{repo_id} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
                    "pull it once with a network connection")
        return "HF_HUB_OFFLINE is set: unset it to push to the Hub (the local model is unchanged)"
    if downloading:
        return (f"cannot reach the Hub at {constants.ENDPOINT} and {repo_id} is not in the local cache; "
                "check the network connection and try again")
    return f"cannot reach the Hub at {constants.ENDPOINT}; check the network connection and push again (the local model is unchanged)"


def _http_error_message(error: HfHubHTTPError, *, repo_id: str, token: str | None, action: str) -> str:
    status = error.response.status_code
    if status == 401:
        if not (token or get_token()):
            return (f"the Hub needs a token to {action} {repo_id}: pass token=, set HF_TOKEN, or run `hf auth login` "
                    f"(create one at {constants.ENDPOINT}/settings/tokens)")
        return (f"the Hub refused {_whose_token(token)} (invalid or expired): check it, or create a new one at "
                f"{constants.ENDPOINT}/settings/tokens")
    if status == 403:
        return (f"{_whose_token(token)} may not {action} {repo_id}: use your own namespace, "
                "or a token with write access to it")
    if status == 412:
        return f"{repo_id} changed on the Hub while pushing (another commit came first); push again"
    detail = " ".join(_without_token(str(error.server_message or ""), token).split())
    return f"the Hub answered {status} when asked to {action} {repo_id}" + (f": {detail}" if detail else "")


def _whose_token(token: str | None) -> str:
    if token:
        return "the token given"
    if os.environ.get("HF_TOKEN"):
        return "the token in HF_TOKEN"
    if get_token():
        return "your stored Hub token"
    return "a request without a token"


def _without_token(text: str, token: str | None) -> str:
    for secret in {token, get_token()} - {None, ""}:
        text = text.replace(secret, "***")
    return text
