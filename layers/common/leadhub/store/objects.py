"""The data bucket: partitions, raw rows and XLSX exports, with presigned links."""

from __future__ import annotations

from collections.abc import Iterator

from leadhub.settings import get_settings
from leadhub.store import aws, errors
from leadhub.store.translate import translated


class ObjectStore:
    def __init__(self, bucket: str | None = None) -> None:
        self.bucket = bucket or get_settings().data_bucket

    def put(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> None:
        extra = {"Metadata": metadata} if metadata else {}
        with translated(f"put s3://{self.bucket}/{key}"):
            aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **extra)

    def get(self, key: str) -> bytes:
        with translated(f"get s3://{self.bucket}/{key}"):
            answer = aws.client("s3").get_object(Bucket=self.bucket, Key=key)
            return bytes(answer["Body"].read())

    def get_with_metadata(self, key: str) -> tuple[bytes, dict[str, str]]:
        """The object and its user metadata (NotFound when there is none)."""
        with translated(f"get s3://{self.bucket}/{key}"):
            answer = aws.client("s3").get_object(Bucket=self.bucket, Key=key)
            return bytes(answer["Body"].read()), dict(answer.get("Metadata") or {})

    def etag(self, key: str) -> str:
        """What identifies this version of the object (NotFound when there is none)."""
        with translated(f"head s3://{self.bucket}/{key}"):
            return str(aws.client("s3").head_object(Bucket=self.bucket, Key=key)["ETag"])

    def listed(self, prefix: str, *, start_after: str = "") -> Iterator[tuple[str, str]]:
        """(key, ETag) of the objects under `prefix`, in key order, from the first key after `start_after`:
        a caller stops iterating where its range ends, so only the pages it needs are listed."""
        paginator = aws.client("s3").get_paginator("list_objects_v2")
        with translated(f"list s3://{self.bucket}/{prefix}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, StartAfter=start_after):
                for entry in page.get("Contents", []):
                    yield entry["Key"], str(entry["ETag"])

    def folders(self, prefix: str) -> list[str]:
        """The next level of `prefix`'s keys, up to their first '/' (S3's common prefixes)."""
        paginator = aws.client("s3").get_paginator("list_objects_v2")
        with translated(f"list s3://{self.bucket}/{prefix}"):
            return [
                entry["Prefix"]
                for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/")
                for entry in page.get("CommonPrefixes", [])
            ]

    def exists(self, key: str) -> bool:
        try:
            with translated(f"head s3://{self.bucket}/{key}"):
                aws.client("s3").head_object(Bucket=self.bucket, Key=key)
        except errors.NotFound:
            return False
        return True

    def keys(self, prefix: str) -> Iterator[str]:
        paginator = aws.client("s3").get_paginator("list_objects_v2")
        with translated(f"list s3://{self.bucket}/{prefix}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    yield entry["Key"]

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self.keys(prefix))
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            with translated(f"delete s3://{self.bucket}/{prefix}"):
                aws.client("s3").delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def download_url(self, key: str, *, filename: str | None = None, expires_in: int | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        with translated(f"presign s3://{self.bucket}/{key}"):
            return str(
                aws.client("s3").generate_presigned_url(
                    "get_object", Params=params, ExpiresIn=expires_in or get_settings().presigned_url_ttl_seconds
                )
            )

    def upload_url(self, key: str, *, content_type: str, expires_in: int | None = None) -> str:
        with translated(f"presign upload s3://{self.bucket}/{key}"):
            return str(
                aws.client("s3").generate_presigned_url(
                    "put_object",
                    Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
                    ExpiresIn=expires_in or get_settings().presigned_url_ttl_seconds,
                )
            )
