"""Keys that change without the user: the embedded store, restarted where no keyring keeps its
keys, comes back with fresh ones. An upload in flight then gets ``InvalidAccessKeyId`` or
``SignatureDoesNotMatch``; that is not the user's mistake, so the uploader asks for the
destination again (``Target.renew``) and goes on with the new keys: a multipart upload resumes
from the parts the server has. A destination without ``renew`` (every cloud destination) still
reports a refused key as such.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from desktop_uploader.errors import StorageError, UploaderError
from desktop_uploader.storage.s3client import translate

log = logging.getLogger(__name__)


class RenewableTarget:
    """The ``Uploader``'s target and store, given fresh keys together when renewed."""

    target: Any
    store: Any  # storage.s3.S3Store

    def _init_renewal(self) -> None:
        self._generation = 0  # how often the target was renewed
        self._renew_lock = threading.Lock()

    def _renewed(self, err: StorageError, generation: int) -> bool:
        """After the destination refused our keys: if its keys can change without the user
        (``Target.renew``: the embedded store restarted with fresh keys), take the current
        ones. True if a retry may now succeed; False for a real bad key (a cloud
        destination's, or the store's keys unchanged), which the caller reports as such.

        ``generation``: the renewal count when the failed request was made; if another
        thread has renewed since, the request just goes again with what it got."""
        renew = self.target.renew
        if renew is None or err.code != "bad_credentials":
            return False
        bucket = self.target.bucket
        with self._renew_lock:
            if self._generation != generation:
                return True
            try:
                fresh = renew()
            except UploaderError as e:
                log.warning("could not renew the keys of %s: %s", bucket, e.message)
                return False
            if (fresh.keys, fresh.endpoint) == (self.target.keys, self.target.endpoint):
                return False
            log.info("%s: the store's keys changed (restarted); using the new ones", bucket)
            self.target = fresh
            self.store.rebind(fresh)
            self._generation += 1
            return True

    def _renewing(self, fn: Callable[[], Any]) -> Any:
        """``fn()``, once more with renewed keys if the first try was refused for its keys."""
        generation = self._generation
        try:
            return fn()
        except Exception as e:
            if not self._renewed(translate(e, self.target.bucket), generation):
                raise
        return fn()
