"""Scenarios that must hold behind a round-robin balancer in front of several instances
(conformance/run.sh with TRAMONTANE_INSTANCES=3); with one instance they check the same
contract. Code state across instances: test_code_interpreter.py."""

import concurrent.futures
import os

import helpers

INSTANCES = int(os.environ.get("TRAMONTANE_INSTANCES", "1"))


def test_rate_limit_holds_across_instances():
    key = os.environ.get("TRAMONTANE_RPS1_KEY")
    assert key, "TRAMONTANE_RPS1_KEY is not set: run through conformance/run.sh"
    c = helpers.make_client(key)
    # A burst: all at once, spread over the instances by the balancer.
    n = 3 * max(2, INSTANCES)
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(c.models.list) for _ in range(n)]
    admitted, refused = 0, 0
    for f in futures:
        e = f.exception()
        if e is None:
            admitted += 1
            continue
        assert isinstance(e, helpers.MistralError), f"unexpected error {e!r}"
        assert e.status_code == 429, f"refusal must be a 429, got {e.status_code}: {e.body}"
        assert "rate limit" in str(e.body)
        refused += 1
    assert 1 <= admitted <= 2, f"admitted {admitted} requests of a burst (refused {refused}), want 1 or 2"


def test_file_downloads_through_every_instance(client):
    body = bytes((i * 31 + 7) % 251 for i in range(600 * 1024))
    f = client.files.upload(file={"file_name": f"{helpers.uniq('so')}.bin", "content": body}, purpose="ocr")
    for i in range(max(3, INSTANCES)):
        got = client.files.download(file_id=f.id).read()
        assert got == body, f"download {i + 1}: {len(got)} bytes, not the {len(body)} uploaded"
    client.files.delete(file_id=f.id)
    for i in range(max(3, INSTANCES)):
        helpers.expect_status(lambda: client.files.download(file_id=f.id), 404, f"download {i + 1} after delete")
