"""``desktop-uploader review``: the files held for content review, and the user's decisions.

A file the content check flags under the ``review`` policy is held in the journal with its
outputs (see ``waiting``); any later process can list it and approve (upload) or reject it.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from desktop_uploader.pipeline.content import Finding
from desktop_uploader.records import JobResult, JobStatus


def cmd_review(app, args) -> int:
    """List held files, or approve/reject the given job IDs; returns the exit status."""
    if args.approve:
        return _approve(app, args)
    if args.reject:
        return _reject(app, args)
    rows = app.journal.held_jobs()
    if args.json:
        for r in rows:
            print(json.dumps(_as_json(r)))
        return 0
    if not rows:
        print("No files are waiting for review.")
        return 0
    for r in rows:
        when = datetime.fromtimestamp(r["held_at"]).strftime("%Y-%m-%d %H:%M")
        found = "; ".join(Finding.from_dict(f).describe() for f in r["findings"])
        print(f"{r['id']:>6}  {r['display_name']}  → {r['profile']}  held {when}")
        print(f"        found {found}")
        print(f"        {r['source']}")
    print(
        "\nUpload one with: desktop-uploader review --approve ID …   "
        "Keep it back with: desktop-uploader review --reject ID …"
    )
    return 0


def _as_json(r: dict) -> dict:
    return {
        "job_id": r["id"],
        "source": r["source"],
        "display_name": r["display_name"],
        "profile": r["profile"],
        "preset": r["preset"],
        "status": r["status"],
        "code": r["code"],
        "reason": r["reason"],
        "findings": r["findings"],
        "held_at": r["held_at"],
        "output": r.get("held_out_dir"),
    }


def _not_held(job_id: int) -> None:
    print(
        f"error: job {job_id} is not waiting for review (see `desktop-uploader review`)",
        file=sys.stderr,
    )


def _reject(app, args) -> int:
    from desktop_uploader.cli_report import EXIT_OK, EXIT_REJECTED

    status = EXIT_OK
    for job_id in args.reject:
        if not app.engine.reject(job_id):
            _not_held(job_id)
            status = EXIT_REJECTED
            continue
        recorded = app.journal.result(job_id) or JobResult("", JobStatus.REJECTED)
        result = recorded.with_(job_id=job_id, status=JobStatus.REJECTED)
        if args.json:
            print(json.dumps(result.to_json()))
        else:
            print(f"rejected: {result.source}: {result.reason} Nothing was uploaded.")
    return status


def _approve(app, args) -> int:
    """Approve each ID, then report each upload as ``upload`` does and wait for them all."""
    from desktop_uploader.cli_report import EXIT_REJECTED, Reporter, exit_status, on_hold

    app.offline_wait = 600.0  # as `upload`: an unreachable destination fails after 10 min
    engine = app.engine
    settings = app.settings
    reporter = Reporter(json_lines=args.json, total=len(args.approve))
    unsubscribe = engine.subscribe(reporter.on_event)
    # a source that changed since it was held is checked again, and may be held again
    unsubscribe_holds = engine.subscribe(lambda e: on_hold(engine, e))
    jobs, missing = [], False
    try:
        with reporter:
            for job_id in args.approve:
                row = app.journal.job(job_id)
                preset = None
                if row is not None and row["preset"] in settings.presets:
                    preset = settings.preset(row["preset"])
                job = engine.approve(job_id, preset)  # the job itself: it may end at once
                if job is None:
                    _not_held(job_id)
                    missing = True
                    continue
                jobs.append(job)
            results = [j.future.result() for j in jobs]
    finally:
        unsubscribe()
        unsubscribe_holds()
    status = exit_status(results)
    return max(status, EXIT_REJECTED) if missing and status == 0 else status
