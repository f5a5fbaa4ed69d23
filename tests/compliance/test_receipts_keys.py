"""Receipt signing keys: format, kid, the development key, rotation, and what a receipt says.

The end-to-end path (a real request, the receipt over /v1, the JWKS over HTTP) is in
tests/gateway/test_receipt_endpoint.py; these check compliance/receipts.py itself.
"""

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import jwt
import pytest
from django.core.management import call_command

from compliance import receipts

ROOT = Path(__file__).resolve().parents[2]
# RFC 8037, appendix A.1-A.3: an Ed25519 key, its public `x` and its RFC 7638 thumbprint.
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def _record(**changes):
    record = {
        "request_id": "gen-123", "org_id": 7, "api_key_id": 9,
        "created_at": dt.datetime(2026, 11, 30, 12, 0, 5, 250_000, tzinfo=dt.UTC),
        "served_model": "openai/gpt-4o-mini", "provider_slug": "sandbox-openai",
        "region": "eu", "is_byok": False, "zdr": True, "policy_version": 3,
        "prompt_tokens": 12, "completion_tokens": 34, "charge_nanos": 1_234_567,
        "request_sha256": "ab" * 32,
    }
    return {**record, **changes}


def _verify(token: str, jwks: dict) -> dict:
    keys = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=["EdDSA"])


def test_the_kid_is_the_rfc7638_thumbprint_of_the_public_key():
    key = receipts.signing_key(RFC8037_D)

    assert key.public_jwk == {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    assert key.kid == RFC8037_THUMBPRINT
    assert RFC8037_D not in repr(key)


def test_a_receipt_states_the_record_and_verifies_with_pyjwt(settings):
    settings.PUBLIC_URL = "https://switchyard.example.com/"
    keys = (receipts.signing_key(receipts.new_seed()),)

    signed = receipts.issue_receipt(_record(), keys)

    assert jwt.get_unverified_header(signed.token) == {"alg": "EdDSA", "kid": keys[0].kid,
                                                        "typ": "JWT"}
    assert _verify(signed.token, receipts.jwks(keys)) == {
        "iss": "https://switchyard.example.com", "sub": "gen-123", "jti": "gen-123",
        "iat": 1_796_040_005, "org": 7, "key_id": 9, "model": "openai/gpt-4o-mini",
        "provider": "sandbox-openai", "region": "eu", "is_byok": False, "zdr": True,
        "policy_version": 3, "prompt_tokens": 12, "completion_tokens": 34,
        "cost": "0.001234567", "request_sha256": "ab" * 32,
    }
    assert signed.jwks_uri == "https://switchyard.example.com/.well-known/jwks.json"


@pytest.mark.parametrize(("claim", "value"), [
    ("cost", "0.000000001"), ("provider", "sandbox-openai-b"), ("zdr", False),
    ("policy_version", 2), ("request_sha256", "cd" * 32), ("completion_tokens", 33),
])
def test_a_tampered_claim_fails_verification(claim, value):
    keys = (receipts.signing_key(receipts.new_seed()),)
    token = receipts.issue_receipt(_record(), keys).token
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims[claim] = value
    forged = ".".join([header, receipts.b64url(json.dumps(claims).encode()), signature])

    with pytest.raises(jwt.InvalidSignatureError):
        _verify(forged, receipts.jwks(keys))


def test_after_a_rotation_old_receipts_verify_and_the_new_key_signs(settings):
    old, new = receipts.new_seed(), receipts.new_seed()
    settings.RECEIPT_SIGNING_KEYS = [old]
    before = receipts.issue_receipt(_record()).token

    settings.RECEIPT_SIGNING_KEYS = [new, old]
    after = receipts.issue_receipt(_record(request_id="gen-456")).token
    published = receipts.jwks()

    assert [k["kid"] for k in published["keys"]] == [receipts.signing_key(new).kid,
                                                      receipts.signing_key(old).kid]
    assert all(k["alg"] == "EdDSA" and k["use"] == "sig" and "d" not in k
               for k in published["keys"])
    assert _verify(before, published)["sub"] == "gen-123"
    assert _verify(after, published)["sub"] == "gen-456"
    assert jwt.get_unverified_header(after)["kid"] == receipts.signing_key(new).kid
    # Once the old key is dropped from the list, its receipts no longer verify.
    settings.RECEIPT_SIGNING_KEYS = [new]
    with pytest.raises(StopIteration):
        _verify(before, receipts.jwks())


def test_the_development_key_is_generated_once_privately_and_reused(tmp_path):
    path = tmp_path / "nested" / "receipt-signing-dev.key"

    first = receipts.load_or_create_dev_seed(path)
    again = receipts.load_or_create_dev_seed(path)

    assert first == again == path.read_text().strip()
    assert receipts.signing_key(first).kid
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_processes_starting_together_agree_on_one_development_key(tmp_path):
    path = tmp_path / "receipt-signing-dev.key"
    seen, start = [], threading.Barrier(8)

    def load():
        start.wait()
        seen.append(receipts.load_or_create_dev_seed(path))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 8 and set(seen) == {path.read_text().strip()}


def _kids_in_a_fresh_process(sqlite_path: Path, **env: str) -> list[str]:
    child_env = {k: v for k, v in os.environ.items()
                 if k not in ("RECEIPT_SIGNING_KEYS", "ENVIRONMENT")}
    child_env.update(DJANGO_SETTINGS_MODULE="marketplace.settings",
                     DATABASE_URL=f"sqlite:///{sqlite_path}", **env)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c",
         "from compliance.receipts import jwks; print([k['kid'] for k in jwks()['keys']])"],
        cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.strip().splitlines()[-1], {"__builtins__": {}})


def test_the_embedded_default_keeps_its_key_beside_the_sqlite_file(tmp_path):
    database = tmp_path / "db.sqlite3"

    first = _kids_in_a_fresh_process(database)
    second = _kids_in_a_fresh_process(database)

    key_file = tmp_path / "receipt-signing-dev.key"
    assert key_file.exists()
    assert first == second == [receipts.signing_key(key_file.read_text().strip()).kid]


def test_configured_keys_win_over_the_development_key(tmp_path):
    seed = receipts.new_seed()

    kids = _kids_in_a_fresh_process(tmp_path / "db.sqlite3", RECEIPT_SIGNING_KEYS=seed)

    assert kids == [receipts.signing_key(seed).kid]
    assert not (tmp_path / "receipt-signing-dev.key").exists()


def test_a_malformed_key_stops_start_up_without_echoing_it(tmp_path):
    good, bad = receipts.new_seed(), "not-a-32-byte-seed-but-a-secret"
    child_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings",
                 "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                 "RECEIPT_SIGNING_KEYS": f"{good},{bad}"}

    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=child_env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "RECEIPT_SIGNING_KEYS: key 2 is not a base64url 32-byte Ed25519 seed" in result.stderr
    assert bad not in result.stderr and good not in result.stderr


def test_receipt_key_prints_a_new_usable_key(capsys):
    call_command("receipt_key", "--kid")
    out, err = capsys.readouterr()
    seed = out.strip()

    assert len(jwt.utils.base64url_decode(seed)) == 32
    assert err.strip() == f"kid {receipts.signing_key(seed).kid}"
    call_command("receipt_key")
    assert capsys.readouterr().out.strip() != seed
