"""Export snapshots in the data bucket: one object per snapshot, one serialised record a line,
written as a multipart upload so that memory holds one part, never the whole export, and read
back a page at a time with a byte range.

Layout: `roistat-crm/<project>/<snapshot id>`; the bucket's lifecycle expires them after a day.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from leadhub.settings import get_settings
from leadhub.store import aws
from leadhub.store.translate import translated

PREFIX = "roistat-crm"
#: S3's smallest part but the last; a part is sent once the buffer holds this much.
PART_BYTES = 8 * 1024 * 1024


def snapshot_key(project_id: str, snapshot_id: str) -> str:
    return f"{PREFIX}/{project_id}/{snapshot_id}"


class SnapshotWriter:
    """Appends lines to one object; `close()` completes it, `abort()` drops it."""

    def __init__(self, key: str, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().data_bucket
        self.key = key
        self.written = 0
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None

    def append(self, line: bytes) -> int:
        """Add one line (without its newline); answers the byte offset it starts at."""
        start = self.written
        self._buffer += line
        self._buffer += b"\n"
        self.written += len(line) + 1
        if len(self._buffer) >= PART_BYTES:
            self._send_part()
        return start

    def _send_part(self) -> None:
        s3 = aws.client("s3")
        if self._upload_id is None:
            with translated(f"start upload s3://{self.bucket}/{self.key}"):
                self._upload_id = s3.create_multipart_upload(Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self._parts) + 1
        with translated(f"upload part of s3://{self.bucket}/{self.key}"):
            answer = s3.upload_part(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=bytes(self._buffer)
            )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self._buffer.clear()

    def close(self) -> None:
        s3 = aws.client("s3")
        if self._upload_id is None:
            with translated(f"put s3://{self.bucket}/{self.key}"):
                s3.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer))
            self._buffer.clear()
            return
        if self._buffer:
            self._send_part()
        with translated(f"complete upload s3://{self.bucket}/{self.key}"):
            s3.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )

    def abort(self) -> None:
        if self._upload_id is not None:
            with translated(f"abort upload s3://{self.bucket}/{self.key}"):
                aws.client("s3").abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)


class SnapshotObjects:
    """Where snapshots are written and read: the data bucket."""

    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().data_bucket

    def writer(self, key: str) -> SnapshotWriter:
        return SnapshotWriter(key, self.bucket)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of a snapshot."""
        if end <= start:
            return b""
        with translated(f"get s3://{self.bucket}/{key}"):
            answer = aws.client("s3").get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}")
            return bytes(answer["Body"].read())

    def chunks(self, key: str) -> Iterator[bytes]:
        with translated(f"get s3://{self.bucket}/{key}"):
            body = aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"]
            yield from body.iter_chunks(chunk_size=1024 * 1024)
