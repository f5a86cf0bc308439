"""infra/lambda/trim_botocore_data.py: the S3 client made from the trimmed botocore data
sends exactly the requests (URL, headers) the full data gives, in every partition and
addressing style, while loading a fraction of the JSON.

The trim runs on a copy of this venv's botocore data; the clients load it through
``AWS_DATA_PATH`` (searched before botocore's own data), each in a fresh process."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import botocore
import pytest

ROOT = Path(__file__).resolve().parents[2]
TRIM = ROOT / "infra" / "lambda" / "trim_botocore_data.py"
KEPT = ["s3", "sts"]

REQUESTS = r"""
import asyncio, json
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

class Stop(Exception):
    pass

async def main():
    seen = {}
    def capture(request, **kwargs):
        seen[key] = [request.method, request.url, sorted(request.headers.keys())]
        raise Stop()
    calls = [("get_object", {"Bucket": "my-bucket", "Key": "a/b.json"}),
             ("list_objects_v2", {"Bucket": "my-bucket", "Prefix": "p/", "Delimiter": "/"}),
             ("put_object", {"Bucket": "my-bucket", "Key": "k", "Body": b"{}",
                             "IfNoneMatch": "*", "ServerSideEncryption": "aws:kms"}),
             ("delete_objects", {"Bucket": "my-bucket",
                                 "Delete": {"Objects": [{"Key": "k"}], "Quiet": True}})]
    for region in ["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1", "eu-central-2",
                   "us-iso-east-1"]:
        for style in ("auto", "path"):
            config = AioConfig(s3={"addressing_style": style},
                               request_checksum_calculation="when_required")
            async with AioSession().create_client(
                    "s3", region_name=region, config=config, aws_access_key_id="a",
                    aws_secret_access_key="b") as client:
                client.meta.events.register("before-send.s3", capture)
                for operation, args in calls:
                    key = f"{region} {style} {operation}"
                    try:
                        await getattr(client, operation)(**args)
                    except Stop:
                        pass
    loaded = AioSession().get_component("data_loader").load_data("endpoints")
    seen["services in the endpoints loaded"] = len(loaded["partitions"][0]["services"])
    print(json.dumps(seen, sort_keys=True))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = Path(botocore.__file__).parent / "data"
    data = tmp_path_factory.mktemp("botocore") / "data"
    data.mkdir()
    shutil.copy(source / "endpoints.json", data) if (source / "endpoints.json").exists() \
        else shutil.copy(source / "endpoints.json.gz", data)
    for service in KEPT:
        shutil.copytree(source / service, data / service)
    subprocess.run([sys.executable, str(TRIM), str(data), *KEPT], check=True,
                   capture_output=True)
    return data


def _requests(data_path: Path | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if data_path is not None:
        env["AWS_DATA_PATH"] = str(data_path)
    done = subprocess.run([sys.executable, "-c", REQUESTS], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_trimmed_data_keeps_only_the_kept_services_endpoints(trimmed: Path) -> None:
    assert not (trimmed / "endpoints.json.gz").exists()
    endpoints = json.loads((trimmed / "endpoints.json").read_text())
    assert len(endpoints["partitions"]) > 5
    for partition in endpoints["partitions"]:
        assert set(partition["services"]) <= set(KEPT)
        assert "dnsSuffix" in partition


def test_the_service_models_are_plain_json_with_empty_documentation(trimmed: Path) -> None:
    for service in KEPT:
        [version] = list((trimmed / service).iterdir())
        assert not (version / "service-2.json.gz").exists()
        model = json.loads((version / "service-2.json").read_text())
        assert model["documentation"] == ""
        assert all(shape.get("documentation", "") == "" for shape in model["shapes"].values())
        original = Path(botocore.__file__).parent / "data" / service / version.name
        full = json.loads(gzip.decompress((original / "service-2.json.gz").read_bytes())) \
            if (original / "service-2.json.gz").exists() \
            else json.loads((original / "service-2.json").read_text())
        assert set(model["operations"]) == set(full["operations"])
        assert set(model["shapes"]) == set(full["shapes"])


def test_clients_send_the_same_requests_from_the_trimmed_data(trimmed: Path) -> None:
    full, trim = _requests(None), _requests(trimmed)
    assert trim.pop("services in the endpoints loaded") == 2  # the trimmed data was used
    assert full.pop("services in the endpoints loaded") > 100
    assert len(full) == 6 * 2 * 4
    assert trim == full
