"""The fake itself enforces the protocol rules the other tests rely on (so those tests can fail)."""
from __future__ import annotations

import json
import urllib.request

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.http import build_http

from publish_support import COSMOS

CHUNK = 256 * 1024


def _req(url, method="GET", data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _session(fake, total):
    token = fake.issue_access_token(COSMOS)
    auth = {"Authorization": f"Bearer {token}"}
    body = json.dumps({"snippet": {"title": "t", "categoryId": "22"}, "status": {"privacyStatus": "private"}}).encode()
    status, headers, _ = _req(fake.url + "upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", "POST",
                              body, {**auth, "Content-Type": "application/json", "X-Upload-Content-Length": str(total),
                                     "X-Upload-Content-Type": "video/mp4"})
    assert status == 200
    return headers["Location"], auth


def test_fake_enforces_chunk_alignment_ranges_and_probes(fake):
    total = 3 * CHUNK
    location, auth = _session(fake, total)
    probe = {**auth, "Content-Range": f"bytes */{total}", "Content-Length": "0"}
    status, headers, _ = _req(location, "PUT", b"", probe)
    assert status == 308 and "Range" not in headers
    status, _, body = _req(location, "PUT", b"x" * 1000, {**auth, "Content-Range": f"bytes 0-999/{total}"})
    assert status == 400 and b"multiples of 256 KiB" in body
    status, headers, _ = _req(location, "PUT", b"a" * CHUNK, {**auth, "Content-Range": f"bytes 0-{CHUNK - 1}/{total}"})
    assert status == 308 and headers["Range"] == f"bytes=0-{CHUNK - 1}"
    status, _, _ = _req(location, "PUT", b"b" * CHUNK, {**auth, "Content-Range": f"bytes 0-{CHUNK - 1}/{total}"})
    assert status == 400 and fake.violations  # re-sent different bytes for the same range
    status, _, body = _req(location, "PUT", b"c" * (2 * CHUNK),
                           {**auth, "Content-Range": f"bytes {CHUNK}-{total - 1}/{total}"})
    assert status == 201 and json.loads(body)["id"] in fake.videos
    status, _, body = _req(location, "PUT", b"", probe)
    assert status == 200 and json.loads(body)["id"] in fake.videos  # a finished session answers with the video
    status, _, _ = _req(location, "PUT", b"", {"Content-Range": f"bytes */{total}"})
    assert status == 401


def test_fake_update_replaces_whole_parts(fake):
    location, auth = _session(fake, 10)
    _, _, body = _req(location, "PUT", b"0123456789", {**auth, "Content-Range": "bytes 0-9/10"})
    vid = json.loads(body)["id"]
    fake.videos[vid]["status"]["embeddable"] = False
    update = {"id": vid, "snippet": {"title": "new", "categoryId": "22"}, "status": {"privacyStatus": "private"}}
    status, _, body = _req(fake.url + "youtube/v3/videos?part=snippet,status", "PUT", json.dumps(update).encode(),
                           {**auth, "Content-Type": "application/json"})
    assert status == 200 and "embeddable" not in fake.videos[vid]["status"]


def test_fake_serves_discovery_documents_pointing_at_itself(fake):
    creds = Credentials(fake.issue_access_token(COSMOS))
    http = google_auth_httplib2.AuthorizedHttp(creds, http=build_http())
    service = build("youtube", "v3", http=http, static_discovery=False,
                    discoveryServiceUrl=fake.url + "discovery/v1/apis/{api}/{apiVersion}/rest")
    assert service.channels().list(part="id", mine=True).execute()["items"][0]["id"] == COSMOS
    analytics = build("youtubeAnalytics", "v2", http=http, static_discovery=False,
                      discoveryServiceUrl=fake.url + "discovery/v1/apis/{api}/{apiVersion}/rest")
    assert analytics._baseUrl.startswith(fake.url)
    assert isinstance(http.http, httplib2.Http)
    http.close()
