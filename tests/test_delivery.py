"""CDN-grade delivery against the real store: responsive variants and the <picture> snippet,
readable key templates, private buckets with presigned links, stable names with a purge."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import threading
import urllib.error
import urllib.request
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from imagegen import jpeg_bytes, png_bytes, scene
from PIL import Image

from desktop_uploader.config import Destination, Preset
from desktop_uploader.errors import ConfigError
from desktop_uploader.pipeline import deliver
from desktop_uploader.pipeline.publish import resign_history


def fetch(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, dict(r.headers), r.read()


def status_of(url: str) -> int:
    try:
        return fetch(url)[0]
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="module")
def photo_bytes() -> bytes:
    return jpeg_bytes(scene(1200, 800, seed=3))


def test_responsive_variants_snippet_and_lqip(app, tmp_path, photo_bytes):
    src = tmp_path / "Sunset at the pier.jpg"
    src.write_bytes(photo_bytes)
    preset = Preset("responsive", widths=[320, 640, 1024, 2048], avif=True)
    app.settings.presets["responsive"] = preset
    [r] = app.engine.run([src], "test", preset)
    assert r.status == "done", r.reason

    # 1200 px wide main: 2048 is dropped (never upscaled), the main's own width is in the set
    by_format: dict[str, list[dict]] = {}
    for v in r.variants:
        by_format.setdefault(v["format"], []).append(v)
    assert sorted(w["width"] for w in by_format["webp"]) == [320, 640, 1024, 1200]
    assert sorted(w["width"] for w in by_format["avif"]) == [320, 640, 1024, 1200]
    assert [w["width"] for w in by_format["jpg"]] == [1200]  # the original's format, fallback
    pil_names = {"webp": "WEBP", "avif": "AVIF", "jpg": "JPEG"}
    for v in r.variants:
        status, headers, body = fetch(v["url"])  # every URL resolves on the store
        assert status == 200 and headers["Content-Type"] == v["content_type"]
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert hashlib.sha256(body).hexdigest() == v["sha256"]
        with Image.open(io.BytesIO(body)) as im:
            assert im.format == pil_names[v["format"]]
            assert im.size == (v["width"], v["height"])
            assert abs(im.width / im.height - 1.5) < 0.01
            assert "exif" not in im.info and "icc_profile" not in im.info
    widest_webp = max(by_format["webp"], key=lambda v: v["width"])
    assert widest_webp["key"] == r.key  # the main rendition is not stored twice

    # the blur placeholder: a tiny WebP data URI, kept in history
    assert r.lqip and r.lqip.startswith("data:image/webp;base64,")
    with Image.open(io.BytesIO(base64.b64decode(r.lqip.split(",", 1)[1]))) as im:
        assert max(im.size) <= 16
    assert len(r.lqip) < 600

    snippet = deliver.link_text(
        "picture", r.url, "Sunset", r.width, r.height, variants=r.variants, lqip=r.lqip
    )
    assert snippet.index('type="image/avif"') < snippet.index('type="image/webp"')
    for v in r.variants:
        assert f"{v['url']} {v['width']}w" in snippet
    jpeg_url = by_format["jpg"][0]["url"]
    assert f'<img src="{jpeg_url}"' in snippet and r.lqip in snippet
    assert 'width="1200" height="800"' in snippet

    row = app.journal.job(r.job_id)
    assert row["lqip"] == r.lqip and json.loads(row["variants"]) == r.variants
    line = r.to_json()
    assert line["variants"] == r.variants and line["url"] == r.url

    # the same file again: a duplicate that still reports its variants
    [again] = app.engine.run([src], "test", preset)
    assert again.status == "duplicate" and again.variants == r.variants

    # the default preset keeps its single WebP and its JSON fields
    [plain] = app.engine.run([src], "test", app.settings.preset(None))
    assert plain.status in ("done", "duplicate") and plain.variants == [] and not plain.lqip
    assert plain.key.endswith(f"{plain.sha256}.webp")


def test_png_with_alpha_falls_back_to_png(app, tmp_path):
    im = scene(500, 300, seed=9).convert("RGBA")
    im.putalpha(128)
    src = tmp_path / "logo.png"
    im.save(src)
    preset = Preset("responsive", widths=[200])
    [r] = app.engine.run([src], "test", preset)
    assert r.status == "done", r.reason
    formats = sorted((v["format"], v["width"]) for v in r.variants)
    assert formats == [("png", 500), ("webp", 200), ("webp", 500)]
    with Image.open(io.BytesIO(fetch(r.variants[-1]["url"])[2])) as out:
        assert out.format == "PNG" and out.mode == "RGBA"


def test_key_template_sanitises_encodes_and_never_collides(app, tmp_path):
    dest = app.settings.destinations["test"]
    dest.key_template = "{yyyy}/{mm}/{name}-{hash8}.{ext}"
    sources = []
    for i in range(2):  # same unfriendly name, different pictures
        d = tmp_path / f"d{i}"
        d.mkdir()
        p = d / "Ünïcode photo #1 (copy).JPG"
        p.write_bytes(jpeg_bytes(scene(160, 120, seed=20 + i)))
        sources.append(p)
    results = app.engine.run(sources, "test", app.settings.preset(None))
    assert [r.status for r in results] == ["done", "done"], [r.reason for r in results]
    pattern = re.compile(rf"^{dest.prefix}/\d{{4}}/\d{{2}}/unicode-photo-1-copy-([0-9a-f]{{8}})")
    keys = {r.key for r in results}
    assert len(keys) == 2
    for r in results:
        m = pattern.match(r.key)
        assert m and r.key.endswith(".webp") and m.group(1) == r.sha256[:8]
        assert fetch(r.url)[0] == 200 and fetch(r.thumbnail_url)[0] == 200
        assert "-thumb256.webp" in r.thumbnail_key

    # names are reduced to a safe subset; anything left is URL-encoded in links
    assert deliver.safe_name("../../etc/pass wd.png") == "pass-wd"
    assert deliver.safe_name("日本.jpg") == "image"
    assert deliver.public_url("https://cdn.example", "a b/ü.webp") == (
        "https://cdn.example/a%20b/%C3%BC.webp"
    )
    for bad in ("{name}.{ext}", "{yyyy}/{name}", "{name}-{hash8}-{nope}.{ext}"):
        with pytest.raises(ConfigError):
            deliver.check_key_template(bad)
    # a short hash that would land on another image's key: the full hash is used instead
    dest.key_template = "{name}-{hash8}.{ext}"
    app.settings.destinations["probe"] = replace(dest, name="probe", prefix=dest.prefix + "p")
    app.credentials.set("probe", app.credentials.get("test"))
    newcomer = tmp_path / "Clash.jpg"
    newcomer.write_bytes(jpeg_bytes(scene(150, 100, seed=77)))
    [probe] = app.engine.run([newcomer], "probe", app.settings.preset(None))
    taken = f"{dest.prefix}/clash-{probe.sha256[:8]}.webp"
    client = app.uploader("test").client
    bucket = app.target("test").bucket
    client.put_object(Bucket=bucket, Key=taken, Body=b"other", Metadata={"sha256": "0" * 64})
    [clash] = app.engine.run([newcomer], "test", app.settings.preset(None))
    assert clash.status == "done" and clash.key == f"{dest.prefix}/clash-{probe.sha256}.webp"
    assert client.get_object(Bucket=bucket, Key=taken)["Body"].read() == b"other"
    assert fetch(clash.url)[0] == 200

    dest.key_template = "{yyyy}/{name}.{ext}"  # no hash: refused, nothing uploaded
    [refused] = app.engine.run([sources[0]], "test", Preset("other", quality=70))
    assert refused.status == "failed" and refused.code == "config", refused


def test_private_bucket_links_are_presigned_and_resigned(app, tmp_path, store_target):
    status, keys = store_target
    bucket = f"priv{os.urandom(3).hex()}"
    admin = app.uploader("test").client
    admin.create_bucket(Bucket=bucket)
    app.settings.destinations["private"] = replace(
        app.settings.destinations["test"], name="private", bucket=bucket, private=True
    )
    app.credentials.set("private", app.credentials.get("test"))
    src = tmp_path / "secret.jpg"
    src.write_bytes(jpeg_bytes(scene(200, 150, seed=4)))
    [r] = app.engine.run([src], "private", app.settings.preset(None))
    assert r.status == "done", r.reason
    assert "X-Amz-Signature=" in r.url and "X-Amz-Expires=604800" in r.url
    got = fetch(r.url)
    assert got[0] == 200 and hashlib.sha256(got[2]).hexdigest() == r.sha256
    assert fetch(r.thumbnail_url)[0] == 200
    unsigned = deliver.public_url(f"{status.s3_endpoint}/{bucket}", r.key)
    assert status_of(unsigned) == 403  # the bucket is not public

    # history re-signs with the destination's (changed) expiry
    app.settings.destinations["private"].link_expiry_hours = 1
    app.engine.forget_uploaders()
    assert resign_history(app.journal, app.uploader) == 1
    row = app.journal.job(r.job_id)
    assert "X-Amz-Expires=3600" in row["url"] and row["url"] != r.url
    assert fetch(row["url"])[0] == 200 and fetch(row["thumbnail_url"])[0] == 200
    # uploading it again answers from history, with fresh links too
    [dup] = app.engine.run([src], "private", app.settings.preset(None))
    assert dup.status == "duplicate" and "X-Amz-Expires=3600" in dup.url
    assert fetch(dup.url)[0] == 200


class _PurgeHook(BaseHTTPRequestHandler):
    calls: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append({"path": self.path, "body": json.loads(body)})
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def purge_server():
    _PurgeHook.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PurgeHook)
    t = threading.Thread(target=server.serve_forever, name="purge-hook")
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/purge", _PurgeHook.calls
    server.shutdown()
    server.server_close()
    t.join()


def test_stable_name_reupload_purges_the_cdn(app, tmp_path, purge_server):
    url, calls = purge_server
    dest = app.settings.destinations["test"]
    dest.stable_names = True
    dest.purge_url = url
    src = tmp_path / "Home Banner.png"
    seen = []
    for seed in (1, 2):  # the same name, replaced by a new picture
        src.write_bytes(png_bytes(scene(240, 120, seed=seed)))
        [r] = app.engine.run([src], "test", app.settings.preset(None))
        assert r.status == "done", r.reason
        assert r.stable_url == deliver.public_url(
            app.target("test").public_base_url, f"{dest.prefix}/home-banner.webp"
        )
        status, headers, body = fetch(r.stable_url)
        assert status == 200 and hashlib.sha256(body).hexdigest() == r.sha256
        assert headers["Cache-Control"] == "public, max-age=300"
        assert fetch(r.url)[0] == 200  # the content-hash key stays, immutable
        seen.append(r.sha256)
    assert seen[0] != seen[1]
    assert [c["body"] for c in calls] == [{"urls": [r.stable_url]}] * 2
    assert calls[0]["path"] == "/purge"


def test_cloudfront_invalidation_request_shape():
    import boto3
    from botocore.stub import Stubber

    from desktop_uploader import cdn

    client = boto3.client(
        "cloudfront",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    dest = Destination("cf", cloudfront_distribution_id="E2EXAMPLE123")
    with Stubber(client) as stub:
        stub.add_response(
            "create_invalidation",
            {
                "Location": "https://cloudfront.amazonaws.com/2020-05-31/distribution/E2EXAMPLE123",
                "Invalidation": {
                    "Id": "I2J0I21PCUYOIK",
                    "Status": "InProgress",
                    "CreateTime": "2026-01-01T00:00:00Z",
                    "InvalidationBatch": {
                        "Paths": {"Quantity": 1, "Items": ["/i/home-banner.webp"]},
                        "CallerReference": "ref-1",
                    },
                },
            },
            {
                "DistributionId": "E2EXAMPLE123",
                "InvalidationBatch": {
                    "Paths": {"Quantity": 1, "Items": ["/i/home-banner.webp"]},
                    "CallerReference": "ref-1",
                },
            },
        )
        inv = cdn.invalidate_cloudfront(
            dest.cloudfront_distribution_id, ["i/home-banner.webp"], client, reference="ref-1"
        )
        stub.assert_no_pending_responses()
    assert inv == "I2J0I21PCUYOIK"
    with Stubber(client) as stub:
        stub.add_client_error("create_invalidation", "AccessDenied", http_status_code=403)
        with pytest.raises(Exception) as err:
            cdn.purge(dest, ["i/x.webp"], ["https://cdn/x.webp"], client)
        assert getattr(err.value, "code", "") == "cdn_purge_failed"


def test_preset_widths_written_as_strings_load_as_numbers(tmp_path):
    from desktop_uploader.settings_file import load_settings

    f = tmp_path / "settings.toml"  # as an older settings form saved them
    f.write_text('[presets.r]\nwidths = ["640", "320"]\n')
    preset = load_settings(f).presets["r"]
    assert preset.widths == [640, 320]
    assert preset.fingerprint() == Preset("r", widths=[320, 640]).fingerprint()
