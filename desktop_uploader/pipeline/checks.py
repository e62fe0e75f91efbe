"""Safety checks in the order the engine runs them, with each destination's policy applied.

1. ``scan``: file-system facts (exists, not empty, not too large), then the malware scan of the
   raw bytes — before any decoder has seen them, so an infected file is ``malware:<signature>``
   whatever else is wrong with it. The scan stream also gives the source's SHA-256 (one read).
2. ``probe``: allow-list, structure (trailing data, polyglots), limits on every frame — in a
   decoder worker when there is a pool.
3. ``process``: decode, orient, sRGB, resize, content check on the decoded pixels, encode — in a
   decoder worker too. ``block`` rejects with ``content:<label>``; ``review`` returns findings
   for the engine to hold the job until the user decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_uploader.config import Limits, Preset
from desktop_uploader.errors import Rejected
from desktop_uploader.pipeline.boundary import as_rejection
from desktop_uploader.pipeline.clamd import ClamdError
from desktop_uploader.pipeline.content import Finding, content_inspector
from desktop_uploader.pipeline.decoder import Decoded, DecodePool
from desktop_uploader.pipeline.intake import unreadable
from desktop_uploader.pipeline.process import file_sha256, process_image
from desktop_uploader.pipeline.scanners import MalwareScanning, ScannerUnavailable, ValidationPolicy
from desktop_uploader.pipeline.scanstatus import ScannerProblem
from desktop_uploader.pipeline.validate import Probe, check_file, probe

log = logging.getLogger(__name__)
NO_SCANNER = ScannerProblem("not_set_up", "No malware scanner is set up in this app.", "")


class WaitForScanner(Exception):  # noqa: N818 - a state the engine handles, not a failure
    """The destination requires a malware scan and no scanner is available: the file waits
    (for at most the engine's ``scanner_wait``)."""

    def __init__(self, problem: ScannerProblem) -> None:
        self.problem = problem
        self.message = (
            f"Waiting for the malware scanner: this destination requires a scan. "
            f"{problem.text()} The file goes on by itself once a scanner answers."
        )
        super().__init__(self.message)


@dataclass(frozen=True)
class Scanned:
    sha256: str
    size: int
    warning: str | None = None  # e.g. "not_scanned: …" under an optional policy
    scanned: bool = True  # False: not scanned (policy off, or no scanner under optional)


class SafetyChecks:
    """Runs the checks; ``scanner`` and ``decoder`` may be None (no scanning; decode inline)."""

    def __init__(
        self,
        limits: Limits,
        scanner: MalwareScanning | None = None,
        decoder: DecodePool | None = None,
        policy_for: Callable[[str], ValidationPolicy] | None = None,
    ) -> None:
        self.limits = limits
        self.scanner = scanner
        self.decoder = decoder
        # without a policy source (engines built directly, e.g. in tests): no scan, no content
        self.policy_for = policy_for or (
            lambda _profile: ValidationPolicy(malware_scan="off", content_check="off")
        )

    def scanner_ready(self) -> bool:
        """True if a malware scanner answers now (used to release waiting files)."""
        return self.scanner is not None and self.scanner.available()

    def scan(self, path: Path, profile: str) -> Scanned:
        """File checks and the malware scan; raises ``Rejected`` or ``WaitForScanner``."""
        try:
            return self._scan(path, profile)
        except OSError as e:  # the file went away or cannot be read part way
            raise unreadable(path, e) from None

    def _scan(self, path: Path, profile: str) -> Scanned:
        policy = self.policy_for(profile).malware_scan
        try:
            check_file(path, self.limits)
        except Rejected as e:
            if e.code != "file_too_large":
                raise
            self._scan_oversized(path, policy, e)
        if policy == "off":
            return Scanned(*file_sha256(path), scanned=False)
        if self.scanner is None:
            return self._no_scan(path, policy, NO_SCANNER)
        try:
            reply = self.scanner.scan(path)
        except ScannerUnavailable as e:
            return self._no_scan(path, policy, e.problem)
        except Rejected:
            raise  # the file itself (e.g. swapped for a FIFO after intake)
        except (ClamdError, OSError) as e:
            if policy != "optional":  # required, or anything unknown: fail closed
                raise Rejected(
                    f"The malware scanner could not scan this file ({e}); this destination "
                    "requires a scan, so it was not uploaded.",
                    code="scan_failed",
                ) from None
            return Scanned(*file_sha256(path), warning=f"not_scanned: {e}", scanned=False)
        if reply.signature and reply.signature.startswith("Heuristics.Limits.Exceeded"):
            # AlertExceedsMax: clamd could not scan all of it (a nested archive past its
            # limits); never treat that as clean
            raise Rejected(
                f"The malware scanner could not scan all of this file ({reply.signature}); "
                "it is treated as unsafe, quarantined and not uploaded.",
                code=f"malware:{reply.signature}",
            )
        if reply.signature:
            raise Rejected(
                f"Malware found ({reply.signature}). The file is quarantined: it was not "
                "uploaded and is left where it is; delete it yourself if you trust the finding.",
                code=f"malware:{reply.signature}",
            )
        return Scanned(reply.sha256, reply.size)

    def _scan_oversized(self, path: Path, policy: str, too_large: Rejected) -> None:
        """An infected file is reported as malware whatever else is wrong with it, a too-large
        one included: scan it anyway (clamd stops reading at its own stream limit, so this
        costs at most that much), then reject it as malware or as too large."""
        if policy != "off" and self.scanner is not None:
            try:
                reply = self.scanner.scan(path)
            except (ScannerUnavailable, ClamdError, OSError):
                reply = None
            sig = reply.signature if reply else None
            if sig and not sig.startswith("Heuristics.Limits.Exceeded"):
                raise Rejected(
                    f"Malware found ({sig}); the file is also larger than allowed. It is "
                    "quarantined: not uploaded, and left where it is.",
                    code=f"malware:{sig}",
                )
        raise too_large

    def _no_scan(self, path: Path, policy: str, problem: ScannerProblem) -> Scanned:
        if policy != "optional":  # required, or anything unknown: fail closed
            raise WaitForScanner(problem)
        return Scanned(*file_sha256(path), warning=f"not_scanned: {problem.text()}", scanned=False)

    def scanner_problem(self) -> ScannerProblem | None:
        """Why files are not being scanned right now, in plain words with the fix."""
        if self.scanner is None:
            return NO_SCANNER
        problem = getattr(self.scanner, "problem", None)
        return problem() if callable(problem) else None

    def probe(self, path: Path) -> Probe:
        """Allow-list, structure and limits; raises ``Rejected``."""
        if self.decoder is not None:
            return self.decoder.probe(path, self.limits)
        try:
            return probe(path, self.limits)
        except Exception as e:  # inline, as the workers do: the file's fault or our bug
            raise as_rejection(e, path) or e from None

    def process(
        self, path: Path, info: Probe, preset: Preset, spool_dir: Path, profile: str
    ) -> Decoded:
        """Decode and encode with the content check; raises ``Rejected`` (``content:<label>``
        under ``block``). Under ``review``, findings come back in ``Decoded.findings``."""
        policy = self.policy_for(profile)
        rule = policy.content_rule()
        block = policy.content_check == "block"
        if self.decoder is not None:
            return self.decoder.process(path, info, preset, spool_dir, rule, block)
        findings: list[Finding] = []
        inspect = content_inspector(rule, block, findings)
        try:
            processed = process_image(path, info, preset, spool_dir, inspect=inspect)
        except Exception as e:  # inline, as the workers do: the file's fault or our bug
            raise as_rejection(e, path) or e from None
        return Decoded(processed, tuple(findings))

    def warm_up(self) -> None:
        """Start the decoder workers now, not on the first file (they import while it is
        hashed and scanned)."""
        if self.decoder is not None:
            self.decoder.warm_up()

    def close(self) -> None:
        """Stop the decoder workers and any clamd we started."""
        if self.decoder is not None:
            self.decoder.close()
        if self.scanner is not None:
            self.scanner.close()
