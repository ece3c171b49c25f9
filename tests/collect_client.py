"""A test client that talks to rasoat the way ODK Collect does.

Behaviour taken from ``../shared/openrosa/protocol.md`` (which cites getodk/collect's source):
``?deviceID=collect:…`` on every request, ``X-OpenRosa-Version: 1.0``, a ``Date`` header in
Collect's 12-hour format, no cookies, Digest answered from the server's challenge (Basic only
over https; the nonce reused with an increasing ``nc``; a 401 after a Digest attempt answered
only when it says ``stale=true``, as okhttp-digest does), HEAD before POST to learn the size
limit, and submissions split into requests of at most that many bytes and 100 files, each but
the last marked ``*isIncomplete*=yes`` and each repeating the identical XML.

It runs over two transports: the Flask test client and real HTTP (requests, against gunicorn),
so the same conversation is tested both ways.  The Digest computation here is written from
RFC 2617, independently of the server's code.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from io import BytesIO
from typing import Protocol
from urllib.parse import urlencode, urlsplit

import requests
from lxml import etree
from werkzeug.datastructures import Headers

XFORMS_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
RESPONSE_NS = "http://openrosa.org/http/response"
DEFAULT_SPLIT = 10_000_000
MAX_FILES_PER_REQUEST = 100


@dataclass
class Reply:
    status: int
    headers: Headers
    body: bytes

    @property
    def message(self) -> str | None:
        """The OpenRosaResponse message Collect would show the reviewer."""
        try:
            root = etree.fromstring(self.body)
        except etree.XMLSyntaxError:
            return None
        node = root.find(f"{{{RESPONSE_NS}}}message")
        return node.text if node is not None else None


# A multipart part: (field name, file name or None, bytes, content type or None).
Part = tuple[str, str | None, bytes, str | None]


class Transport(Protocol):
    def send(
        self, method: str, url: str, headers: dict[str, str], parts: list[Part] | None
    ) -> Reply: ...


class FlaskTransport:
    def __init__(self, app) -> None:
        self.client = app.test_client(use_cookies=False)

    def send(self, method, url, headers, parts):
        split = urlsplit(url)
        data = None
        if parts is not None:
            data = {}
            for name, filename, content, ctype in parts:
                value = (BytesIO(content), filename, ctype) if filename else content.decode()
                data.setdefault(name, []).append(value)
        response = self.client.open(
            split.path,
            method=method,
            query_string=split.query,
            headers=headers,
            data=data,
            base_url=f"{split.scheme}://{split.netloc}",
            content_type="multipart/form-data" if parts is not None else None,
        )
        body = response.get_data()
        response.close()  # as a real server does once the body is sent (runs call_on_close)
        return Reply(response.status_code, Headers(response.headers), body)


class HttpTransport:
    def __init__(self, timeout: float = 60) -> None:
        self.session = requests.Session()
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.timeout = timeout

    def send(self, method, url, headers, parts):
        files = None
        if parts is not None:
            files = [
                (name, (filename, content, ctype) if filename else (None, content))
                for name, filename, content, ctype in parts
            ]
        response = self.session.request(
            method, url, headers=headers, files=files, timeout=self.timeout, allow_redirects=True
        )
        headers_out = Headers()
        for key, value in response.raw.headers.items():
            headers_out.add(key, value)
        return Reply(response.status_code, headers_out, response.content)


@dataclass
class FormEntry:
    form_id: str
    name: str
    version: str
    hash: str
    download_url: str
    manifest_url: str | None


@dataclass
class MediaFile:
    filename: str
    hash: str
    download_url: str


@dataclass
class CollectClient:
    transport: Transport
    server_url: str
    username: str | None = None
    password: str | None = None
    device_id: str = field(default_factory=lambda: "collect:" + os.urandom(8).hex())
    log: list[tuple[str, str, int]] = field(default_factory=list)
    _challenge: dict[str, str] | None = None
    _nc: int = 0

    # --- HTTP ----------------------------------------------------------------------------------

    def request(self, method: str, url: str, parts: list[Part] | None = None) -> Reply:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode({'deviceID': self.device_id})}"
        headers = {
            "User-Agent": "org.odk.collect.android/v2025.2.0 Dalvik/2.1.0 (Linux; Android 13)",
            "X-OpenRosa-Version": "1.0",
            # Collect formats the date with 'hh': a 12-hour clock without AM/PM.
            "Date": time.strftime("%a, %d %b %Y %I:%M:%S GMT", time.gmtime()),
            "Accept-Encoding": "gzip",
        }
        if self._challenge and self.username:
            headers["Authorization"] = self._digest(method, url)
        reply = self.transport.send(method, url, headers, parts)
        for _ in range(3):
            if reply.status != 401 or not self.username:
                break
            challenge = _parse_digest_challenge(reply.headers.getlist("WWW-Authenticate"))
            if challenge is None:
                break
            # okhttp-digest (DigestAuthenticator.authenticate) keeps the new challenge for the
            # next requests, but answers it only if this request carried no Digest credentials
            # or the server said stale=true; otherwise it gives up and Collect asks the user.
            self._challenge, self._nc = challenge, 0
            if "Authorization" in headers and challenge.get("stale", "").lower() != "true":
                break
            headers["Authorization"] = self._digest(method, url)
            reply = self.transport.send(method, url, headers, parts)
        self.log.append((method, url, reply.status))
        return reply

    def _digest(self, method: str, url: str) -> str:
        challenge = self._challenge or {}
        realm, nonce = challenge["realm"], challenge["nonce"]
        split = urlsplit(url)
        uri = split.path + (f"?{split.query}" if split.query else "")
        self._nc += 1
        nc = f"{self._nc:08x}"
        cnonce = os.urandom(8).hex()
        ha1 = _md5(f"{self.username}:{realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields = {
            "username": self.username,
            "realm": realm,
            "nonce": nonce,
            "uri": uri,
            "response": response,
            "qop": "auth",
            "nc": nc,
            "cnonce": cnonce,
            "algorithm": "MD5",
        }
        if "opaque" in challenge:
            fields["opaque"] = challenge["opaque"]
        unquoted = {"qop", "nc", "algorithm"}
        return "Digest " + ", ".join(
            f"{k}={v}" if k in unquoted else f'{k}="{v}"' for k, v in fields.items()
        )

    # --- OpenRosa conversation ------------------------------------------------------------------

    def form_list(self) -> list[FormEntry]:
        reply = self.request("GET", f"{self.server_url.rstrip('/')}/formList")
        if reply.status != 200:
            raise CollectError("form list", reply)
        if "text/xml" not in reply.headers.get("Content-Type", ""):
            raise CollectError("form list content type is not text/xml", reply)
        if "X-OpenRosa-Version" not in reply.headers:
            raise CollectError("form list has no X-OpenRosa-Version", reply)
        root = etree.fromstring(reply.body)
        if root.tag != f"{{{XFORMS_LIST_NS}}}xforms":
            raise CollectError("form list root", reply)
        entries = []
        for xform in root.findall(f"{{{XFORMS_LIST_NS}}}xform"):

            def text(name: str, node=xform) -> str | None:
                found = node.find(f"{{{XFORMS_LIST_NS}}}{name}")
                return found.text if found is not None else None

            entries.append(
                FormEntry(
                    form_id=text("formID"),
                    name=text("name"),
                    version=text("version"),
                    hash=text("hash"),
                    download_url=text("downloadUrl"),
                    manifest_url=text("manifestUrl"),
                )
            )
        return entries

    def download_form(self, entry: FormEntry) -> bytes:
        reply = self.request("GET", entry.download_url)
        if reply.status != 200:
            raise CollectError("form download", reply)
        if not entry.hash or entry.hash != "md5:" + _md5_bytes(reply.body):
            raise CollectError("form hash does not match the downloaded bytes", reply)
        return reply.body

    def manifest(self, entry: FormEntry) -> list[MediaFile]:
        reply = self.request("GET", entry.manifest_url)
        if reply.status != 200 or "text/xml" not in reply.headers.get("Content-Type", ""):
            raise CollectError("manifest", reply)
        if "X-OpenRosa-Version" not in reply.headers:
            raise CollectError("manifest has no X-OpenRosa-Version", reply)
        root = etree.fromstring(reply.body)
        if root.tag != f"{{{MANIFEST_NS}}}manifest":
            raise CollectError("manifest root", reply)
        files = []
        for media in root.findall(f"{{{MANIFEST_NS}}}mediaFile"):
            values = {c.tag.split("}")[1]: c.text for c in media}
            if not {"filename", "hash", "downloadUrl"} <= values.keys():
                raise CollectError("incomplete mediaFile", reply)
            if not re.fullmatch(r"md5:[0-9a-f]{32}", values["hash"]):
                raise CollectError("media hash format", reply)
            # Collect turns the URL into a java.net.URI: spaces and the like must be encoded.
            if (
                re.search(r"[\s\"<>{}|\\^`]", values["downloadUrl"])
                or not values["downloadUrl"].isascii()
            ):
                raise CollectError("media URL is not percent-encoded", reply)
            files.append(MediaFile(values["filename"], values["hash"], values["downloadUrl"]))
        return files

    def download_media(self, media: MediaFile) -> bytes:
        reply = self.request("GET", media.download_url)
        if reply.status != 200:
            raise CollectError("media download", reply)
        if media.hash != "md5:" + _md5_bytes(reply.body):
            raise CollectError("media hash does not match the downloaded bytes", reply)
        return reply.body

    def submit(
        self,
        xml: bytes,
        files: dict[str, bytes] | None = None,
        *,
        instance_file_name: str = "instance.xml",
    ) -> list[Reply]:
        """Send one finalized instance as Collect does; returns every POST's reply."""
        url = f"{self.server_url.rstrip('/')}/submission"
        head = self.request("HEAD", url)
        if head.status == 204:
            try:
                limit = int(head.headers.get("X-OpenRosa-Accept-Content-Length", DEFAULT_SPLIT))
            except ValueError:
                limit = DEFAULT_SPLIT
        elif 200 <= head.status < 300:
            raise CollectError("HEAD must answer 204", head)
        else:
            limit = DEFAULT_SPLIT
        batches: list[list[tuple[str, bytes]]] = [[]]
        size = len(xml)
        for name, content in (files or {}).items():
            batch = batches[-1]
            if batch and (size + len(content) > limit or len(batch) >= MAX_FILES_PER_REQUEST):
                batches.append([])
                size = len(xml)
            batches[-1].append((name, content))
            size += len(content)
        replies = []
        for index, batch in enumerate(batches):
            parts: list[Part] = [("xml_submission_file", instance_file_name, xml, "text/xml")]
            parts += [(name, name, content, _content_type(name)) for name, content in batch]
            if index < len(batches) - 1:
                parts.append(("*isIncomplete*", None, b"yes", None))
            reply = self.request("POST", url, parts)
            replies.append(reply)
            if reply.status not in (201, 202):
                break
        return replies


class CollectError(AssertionError):
    def __init__(self, what: str, reply: Reply) -> None:
        super().__init__(f"{what}: HTTP {reply.status} {reply.body[:500]!r}")
        self.reply = reply


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _md5_bytes(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _content_type(name: str) -> str:
    lower = name.lower()
    if lower.endswith((".jpg", ".jpeg")):
        return "image/jpeg"
    if lower.endswith(".png"):
        return "image/png"
    return "application/octet-stream"


def _parse_digest_challenge(values: list[str]) -> dict[str, str] | None:
    for value in values:
        if value.lower().startswith("digest "):
            return dict(re.findall(r'(\w+)="?([^",]*)"?', value[7:]))
    return None
