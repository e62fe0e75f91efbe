"""Secrets for destinations, kept only in the OS keyring.

When no keyring backend is usable (a headless server, a locked keychain), reads fall back to the
standard ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` environment variables for this run and
say so through ``notice``. Nothing here ever writes a secret to a file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from desktop_uploader.errors import CredentialsError

log = logging.getLogger(__name__)
SERVICE = "desktop-uploader"


@dataclass(frozen=True)
class S3Keys:
    access_key_id: str
    secret_access_key: str = field(repr=False)

    def to_json(self) -> str:
        return json.dumps(
            {"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key}
        )

    @classmethod
    def from_json(cls, text: str) -> S3Keys:
        data = json.loads(text)
        return cls(data["access_key_id"], data["secret_access_key"])


class CredentialStore:
    """Reads and writes per-destination S3 keys in the keyring."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self._env = os.environ if env is None else env
        self._notice = notice or (lambda msg: log.warning("%s", msg))
        self._noticed = False

    def keyring_usable(self) -> bool:
        """True when the keyring can be read (a backend exists and is unlocked)."""
        import keyring
        import keyring.errors

        try:
            keyring.get_password(SERVICE, "__probe__")
        except keyring.errors.KeyringError:
            return False
        return True

    def backend_name(self) -> str:
        import keyring

        kr = keyring.get_keyring()
        return f"{type(kr).__module__}.{type(kr).__name__}"

    def get(self, profile: str) -> S3Keys | None:
        """Keys for ``profile``: from the keyring, else (no usable keyring) from the environment."""
        import keyring
        import keyring.errors

        try:
            secret = keyring.get_password(SERVICE, profile)
        except keyring.errors.KeyringError as e:
            return self._from_env(f"No usable keyring ({type(e).__name__})")
        if secret is None:
            return None
        try:
            return S3Keys.from_json(secret)
        except (ValueError, KeyError):
            raise CredentialsError(
                f"The keyring entry for destination '{profile}' is damaged. "
                "Enter the keys again in Settings or with `desktop-uploader` profile setup."
            ) from None

    def set(self, profile: str, keys: S3Keys) -> None:
        """Store keys for ``profile`` in the keyring; fails clearly rather than use a file."""
        import keyring
        import keyring.errors

        try:
            keyring.set_password(SERVICE, profile, keys.to_json())
        except keyring.errors.KeyringError as e:
            raise CredentialsError(
                f"Could not save the keys for '{profile}': no usable keyring ({type(e).__name__}). "
                "Desktop Uploader never stores secrets in plain files. Unlock or install a keyring "
                "(GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager), or set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for each run."
            ) from e

    def delete(self, profile: str) -> None:
        import keyring
        import keyring.errors

        try:
            keyring.delete_password(SERVICE, profile)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as e:
            raise CredentialsError(f"Could not remove the keys for '{profile}': {e}") from e

    def _from_env(self, why: str) -> S3Keys | None:
        key_id = self._env.get("AWS_ACCESS_KEY_ID")
        secret = self._env.get("AWS_SECRET_ACCESS_KEY")
        if not self._noticed:
            self._noticed = True
            if key_id and secret:
                self._notice(f"{why}: using AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for this run.")
            else:
                self._notice(f"{why}, and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set.")
        if key_id and secret:
            return S3Keys(key_id, secret)
        return None


class DraftCredentials:
    """Keys typed in the settings window but not saved yet, in front of the real store: what
    Test connection uses (``App.draft``). Reads only; saving goes through the real store."""

    def __init__(self, real: CredentialStore, drafts: Mapping[str, S3Keys]) -> None:
        self._real, self._drafts = real, dict(drafts)

    def get(self, profile: str) -> S3Keys | None:
        return self._drafts.get(profile) or self._real.get(profile)
