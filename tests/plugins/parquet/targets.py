"""Where a test writes: a local folder, or a bucket on the moto server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import fsspec


@dataclass
class Target:
    """A dataset URL, its storage options, and a file system to look inside."""

    url: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        """The file system (s3fs or local)."""
        fs, _ = fsspec.core.url_to_fs(self.url, **self.options)
        return fs

    @property
    def root(self) -> str:
        """The dataset's root path inside :attr:`fs`."""
        _, root = fsspec.core.url_to_fs(self.url, **self.options)
        return str(root).rstrip("/")

    def settings(self, **more: Any) -> dict[str, Any]:
        """The callback's settings for this target."""
        return {"url": self.url, "storage_options": self.options, **more}
