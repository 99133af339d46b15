"""The ``hf_dataset`` callback: flags as Parquet shards in a Hugging Face dataset, in batched commits.

Layout in the repo, under ``path_in_repo`` (default ``data/``):

- ``<schema>/shard-<first event id>.parquet``: one shard per delivered batch, one row per flag, written
  by :mod:`flagpipe.plugins.parquet_shards`. Image and audio fields are real ``Image`` / ``Audio``
  features (a struct of the file's bytes and name), other fields are typed columns, then ``option``,
  ``username``, ``comment``, ``timestamp``, ``id``, ``mode``, ``app``, ``session_id`` and ``metadata``
  (JSON). ``<schema>`` names the set of fields, so shards with different fields never share a folder
  (or a dataset config).
- ``files/<sha256><suffix>``: files of other kinds (video, file), stored once each by content; their
  column holds that path.
- ``README.md``: a dataset card whose ``configs`` front matter points at the shards.

A shard is named after the first event it holds, so a batch replayed after a crash overwrites its own
shard instead of adding rows twice: every flag lands on the Hub exactly once. Commits name the head
they build on; a concurrent commit (another replica) makes the commit retry on the new head.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator

import flagpipe
from flagpipe.core.columns import HUB_COLUMNS, names
from flagpipe.plugins.http_retry import parse_retry_after
from flagpipe.plugins.parquet_shards import overlapping_shards, schema_id, shard_ids, shard_path, write_shard

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from huggingface_hub import HfApi

    from flagpipe import FlagEvent, FlagSchema

log = logging.getLogger("flagpipe.hf_dataset")

#: Columns after the fields, in order (the hub layout of :mod:`flagpipe.core.columns`).
META_COLUMNS = names(HUB_COLUMNS)
_COMMIT_CONFLICT_TRIES = 5


class HFDatasetSettings(flagpipe.CallbackSettings):
    """Settings of the ``hf_dataset`` callback."""

    repo_id: str = Field(description="The dataset repository, as namespace/name.")
    token: SecretStr | None = Field(
        default=None, description="A Hub token with write access (default: huggingface_hub's usual lookup)."
    )
    private: bool = Field(default=True, description="Create the repository as private (if it does not exist).")
    endpoint: str | None = Field(default=None, description="A Hub-compatible server (default: the Hub).")
    path_in_repo: str = Field(default="data/", description="The folder of the shards inside the repository.")
    commit_every: float = Field(
        default=300.0, gt=0, description="Seconds between commits: at most one commit per interval."
    )
    commit_max_events: int = Field(
        default=1000, ge=1, le=10_000, description="The most flags in one commit (a full batch goes early)."
    )
    card: bool = Field(default=True, description="Write and keep up to date a README.md dataset card.")

    @field_validator("repo_id")
    @classmethod
    def _repo_id(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", value) or ".." in value:
            raise ValueError(f"repo_id must look like namespace/name, got {value!r}")
        return value

    @field_validator("path_in_repo")
    @classmethod
    def _folder(cls, value: str) -> str:
        clean = value.strip("/")
        if not clean or any(part in ("", ".", "..") for part in clean.split("/")):
            raise ValueError(f"path_in_repo must be a relative folder, got {value!r}")
        return clean + "/"


def _status_and_retry_after(exc: BaseException) -> tuple[int | None, float | None]:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None)
    return status, parse_retry_after(headers.get("retry-after")) if headers is not None else None


def _commit_made(exc: BaseException) -> bool:
    """Whether ``exc`` came after the server made the commit: huggingface_hub before 1.0 reads the commit's
    URL against its default endpoint, so with another ``endpoint`` it raises once the commit is made."""
    return isinstance(exc, ValueError) and str(exc).startswith("Unable to retrieve user and repo ID")


class HFDatasetCallback(flagpipe.Callback[HFDatasetSettings]):
    """Commits flags to a Hugging Face dataset as typed Parquet shards, batched in time."""

    type_name = "hf_dataset"
    Settings = HFDatasetSettings

    def __init__(self, settings: HFDatasetSettings) -> None:
        super().__init__(settings)
        self.max_batch_size = settings.commit_max_events
        self.batch_interval = settings.commit_every
        self._api: HfApi | None = None
        self._directory: Path | None = None
        self._ready = False
        self._card_schemas: set[str] | None = None

    # -- set-up and health ------------------------------------------------------------------

    def _client(self) -> HfApi:
        if self._api is None:
            try:
                from huggingface_hub import HfApi
            except ImportError:
                raise flagpipe.PermanentError(
                    "the hf_dataset callback needs huggingface_hub and pyarrow: pip install 'flagpipe[hf]'"
                ) from None
            token = self.settings.token.get_secret_value() if self.settings.token else None
            self._api = HfApi(endpoint=self.settings.endpoint, token=token)
        return self._api

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Remember the flagging dir; the repository is checked on the first delivery."""
        self._directory = directory

    def _ensure_repo(self) -> None:
        """Check the token and make sure the dataset repository exists (creating it if needed)."""
        if self._ready:
            return
        api = self._client()
        try:
            user = api.whoami()
        except Exception as exc:  # noqa: BLE001 - the client raises many types; classified by HTTP status
            raise self._explain(exc, "checking the token") from None
        namespace = self.settings.repo_id.split("/")[0]
        try:
            if not api.repo_exists(self.settings.repo_id, repo_type="dataset") and api.repo_exists(
                self.settings.repo_id, repo_type="model"
            ):
                raise flagpipe.PermanentError(
                    f"{self.settings.repo_id} is a model repository, not a dataset: set repo_id to the dataset "
                    f"flags should go to (flagpipe creates it), for example {self.settings.repo_id}-flags"
                )
            api.create_repo(self.settings.repo_id, repo_type="dataset", private=self.settings.private, exist_ok=True)
            api.repo_info(self.settings.repo_id, repo_type="dataset")
        except flagpipe.DeliveryError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified by HTTP status
            raise self._explain(exc, f"creating the dataset {self.settings.repo_id}", user=user, ns=namespace) from None
        self._ready = True

    def _explain(self, exc: Exception, doing: str, user: Any = None, ns: str | None = None) -> flagpipe.DeliveryError:
        status, retry_after = _status_and_retry_after(exc)
        name = (user or {}).get("name") if isinstance(user, dict) else None
        if status == 401:
            return flagpipe.RetryableError(
                f"the Hub rejected the token while {doing}: set a valid write token (token: or HF_TOKEN); "
                "the flags stay pending until then"
            )
        if status == 403:
            who = f"user {name!r}" if name else "this token"
            return flagpipe.RetryableError(
                f"{who} has no write access to {ns or self.settings.repo_id!r} while {doing}: use a token "
                "with write access to that namespace, or another repo_id; the flags stay pending"
            )
        if status == 429:
            return flagpipe.RetryableError(f"the Hub's rate limit while {doing}", retry_after=retry_after)
        if status is not None and status < 500 and status not in (404, 408, 409, 412):
            return flagpipe.PermanentError(f"the Hub answered HTTP {status} while {doing}: {_message(exc)}")
        return flagpipe.RetryableError(f"the Hub failed while {doing}: {_message(exc)}", retry_after=retry_after)

    def healthcheck(self) -> str | None:
        """Check the token, that the repository exists or can be created, and that it is a dataset."""
        self._ensure_repo()
        api = self._client()
        try:
            from huggingface_hub.errors import RepositoryNotFoundError

            api.repo_info(self.settings.repo_id, repo_type="dataset")
        except RepositoryNotFoundError:
            raise flagpipe.PermanentError(f"{self.settings.repo_id} is not a dataset repository") from None
        return f"dataset {self.settings.repo_id} is writable"

    # -- delivering -------------------------------------------------------------------------

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """Write the batch as one Parquet shard (per field set) and commit it, with any new files.

        Events already held by another shard (a batch replayed in a different cut) are left out, so
        no flag appears twice on the Hub.
        """
        self._ensure_repo()
        from huggingface_hub import CommitOperationAdd

        groups: dict[str, list[FlagEvent]] = {}
        for event in events:
            groups.setdefault(schema_id(event), []).append(event)
        on_hub = self._repo_files()
        operations: list[Any] = []
        for schema, group in groups.items():
            folder = f"{self.settings.path_in_repo}{schema}/"
            path = shard_path(folder, group[0].id)
            held = self._ids_in_overlapping_shards(on_hub, folder, path, group[0].id, group[-1].id)
            kept = [e for e in group if e.id not in held]
            if not kept:
                continue
            files_prefix = f"{self.settings.path_in_repo}files/"
            shard = write_shard(kept, self._directory, HUB_COLUMNS, files_prefix)
            operations.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=shard.data))
            operations.extend(CommitOperationAdd(path_in_repo=p, path_or_fileobj=b) for p, b in shard.files.items())
        if operations:
            message = f"Add {len(events)} flag(s) ({events[0].id} .. {events[-1].id})"
            self._commit(operations, message, set(groups))

    def _repo_files(self) -> set[str]:
        api = self._client()
        try:
            info = api.dataset_info(self.settings.repo_id)
        except Exception as exc:  # noqa: BLE001 - classified by HTTP status
            raise self._explain(exc, f"reading {self.settings.repo_id}") from None
        return {s.rfilename for s in (info.siblings or [])}

    def _ids_in_overlapping_shards(self, on_hub: set[str], folder: str, own: str, first: str, last: str) -> set[str]:
        """Ids held by other shards of ``folder`` that start within ``first..last`` (only after a replay)."""
        held: set[str] = set()
        api = self._client()
        for path in overlapping_shards(on_hub, folder, own, first, last):
            try:
                local = api.hf_hub_download(self.settings.repo_id, path, repo_type="dataset")
            except Exception as exc:  # noqa: BLE001 - classified by HTTP status
                raise self._explain(exc, f"reading {path}") from None
            held.update(shard_ids(local))
        return held

    def _commit(self, operations: list[Any], message: str, schemas: set[str]) -> None:
        from huggingface_hub import CommitOperationAdd

        api = self._client()
        for attempt in range(1, _COMMIT_CONFLICT_TRIES + 1):
            try:
                info = api.repo_info(self.settings.repo_id, repo_type="dataset")
                extra = []
                if self.settings.card:
                    card = self._card(info, schemas)
                    if card is not None:
                        extra.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card.encode()))
                api.create_commit(
                    self.settings.repo_id,
                    operations=[*operations, *extra],
                    commit_message=message,
                    repo_type="dataset",
                    parent_commit=info.sha,
                )
            except Exception as exc:  # noqa: BLE001 - classified by HTTP status
                if not _commit_made(exc):
                    status, _ = _status_and_retry_after(exc)
                    conflict = status in (409, 412) or "has happened since" in str(exc)
                    if conflict and attempt < _COMMIT_CONFLICT_TRIES:
                        log.info("flagpipe: %s moved on; committing again on the new head", self.settings.repo_id)
                        self._card_schemas = None
                        continue
                    raise self._explain(exc, f"committing to {self.settings.repo_id}") from None
            if self.settings.card:
                self._card_schemas = (self._card_schemas or set()) | schemas
            return

    def _card(self, info: Any, schemas: set[str]) -> str | None:
        """The dataset card to write, or None when the one on the Hub already lists every schema."""
        prefix = self.settings.path_in_repo
        on_hub = {
            s.rfilename[len(prefix) :].split("/")[0]
            for s in (info.siblings or [])
            if s.rfilename.startswith(prefix) and s.rfilename.endswith(".parquet")
        }
        has_card = any(s.rfilename == "README.md" for s in (info.siblings or []))
        known = self._card_schemas if self._card_schemas is not None else (on_hub if has_card else set())
        wanted = on_hub | schemas
        if has_card and wanted <= known:
            return None
        return dataset_card(self.settings.repo_id, prefix, sorted(wanted))

    def close(self) -> None:
        """Nothing is buffered between deliveries: each batch is committed as it comes."""


def _message(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def dataset_card(repo_id: str, prefix: str, schemas: list[str]) -> str:
    """A README.md whose ``configs`` front matter lets the viewer and ``load_dataset`` read the shards."""
    import yaml

    configs = [
        {
            "config_name": "default" if index == 0 else schema,
            "data_files": [{"split": "train", "path": f"{prefix}{schema}/*.parquet"}],
        }
        for index, schema in enumerate(schemas)
    ]
    front = yaml.safe_dump({"configs": configs, "tags": ["flagpipe", "flagging"]}, sort_keys=False)
    return (
        f"---\n{front}---\n\n# {repo_id}\n\n"
        "Flags collected with [flagpipe](https://pypi.org/project/flagpipe/): samples where a model "
        "misbehaved, with the reason a person gave, who and when.\n\n"
        f"Each folder under `{prefix}` holds flags with one set of fields; image and audio fields are "
        "`Image` and `Audio` features. Every row has `option`, `username`, `comment`, `timestamp` and "
        "`id` (a flag's unique id).\n"
    )


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[Any]]]:
    """Register the ``hf_dataset`` callback."""
    return [HFDatasetCallback]


__all__ = ["HFDatasetCallback", "HFDatasetSettings", "dataset_card", "schema_id"]
