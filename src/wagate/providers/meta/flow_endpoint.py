"""Meta's Flows data endpoint (FL1): the request encryption around `domain/flow_exchange`.

Each request is JSON with three base64 fields. WhatsApp's client draws a fresh AES key per
request and encrypts it to the business's public key (RSA-OAEP, SHA-256 for the hash and MGF1):
`encrypted_aes_key`. The request itself is AES-GCM under that key with `initial_vector` as the
nonce, the 16-byte tag appended: `encrypted_flow_data`. The response is encrypted with the same
key and the nonce with every bit flipped, sent base64 as plain text. Requests are signed with
the app secret like webhooks (`X-Hub-Signature-256`).

Answers Meta expects on failure: 432 when the signature does not verify, 421 when the request
cannot be decrypted (the client then fetches the public key again), 400 when it decrypts to
something that is not a request.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wagate.domain.flow_exchange import EndpointAnswer, ExchangeError
from wagate.domain.provider_port import InboundRequest
from wagate.providers.meta.signature import SIGNATURE_HEADER, SignatureCheck, check_signature

log = structlog.get_logger(__name__)

SIGNATURE_FAILED = 432
UNDECRYPTABLE = 421
MIN_RSA_BITS = 2048
_AES_KEY_BYTES = (16, 24, 32)  # WhatsApp uses AES-128; longer keys are read as well
_OAEP = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)


class FlowKeyError(ValueError):
    """The private key cannot be used: the message says why (never the key)."""


class Undecryptable(ValueError):
    """The request was not encrypted to our key (or was damaged)."""


def load_private_key(pem: bytes, passphrase: bytes | None = None) -> rsa.RSAPrivateKey:
    """The endpoint's RSA private key from PEM; FlowKeyError when it is not one we can use."""
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise FlowKeyError(f"not a readable PEM private key ({type(exc).__name__})") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise FlowKeyError("the Flows endpoint needs an RSA key")
    if key.key_size < MIN_RSA_BITS:
        raise FlowKeyError(f"the RSA key must have at least {MIN_RSA_BITS} bits")
    return key


@dataclass(frozen=True, slots=True, kw_only=True)
class Decrypted:
    request: dict[str, Any]
    key: bytes
    iv: bytes


def decrypt_request(body: Mapping[str, Any], private_key: rsa.RSAPrivateKey) -> Decrypted:
    """The request's JSON, and the key and nonce its response is encrypted with."""
    try:
        sealed_key = base64.b64decode(str(body["encrypted_aes_key"]), validate=True)
        sealed = base64.b64decode(str(body["encrypted_flow_data"]), validate=True)
        iv = base64.b64decode(str(body["initial_vector"]), validate=True)
    except (KeyError, binascii.Error) as exc:
        raise Undecryptable("a field is missing or not base64") from exc
    try:
        key = private_key.decrypt(sealed_key, _OAEP)
    except ValueError as exc:
        raise Undecryptable("the AES key was not encrypted to this endpoint's key") from exc
    if len(key) not in _AES_KEY_BYTES or len(iv) < 8 or len(sealed) < 16:
        raise Undecryptable("the key, nonce or payload has an impossible length")
    try:
        plain = AESGCM(key).decrypt(iv, sealed, None)
    except InvalidTag as exc:
        raise Undecryptable("the payload does not authenticate") from exc
    try:
        request = orjson.loads(plain)
    except orjson.JSONDecodeError as exc:
        raise ValueError("the decrypted request is not JSON") from exc
    if not isinstance(request, dict):
        raise ValueError("the decrypted request is not an object")
    return Decrypted(request=request, key=key, iv=iv)


def encrypt_response(response: Mapping[str, Any], key: bytes, iv: bytes) -> bytes:
    """The response as Meta expects it: AES-GCM under the request's key with the nonce's bits
    flipped, tag appended, base64."""
    flipped = bytes(b ^ 0xFF for b in iv)
    return base64.b64encode(AESGCM(key).encrypt(flipped, orjson.dumps(response), None))


class MetaFlowEndpoint:
    """`FlowDataEndpoint` for Meta: verify, decrypt, answer (`respond`), encrypt."""

    def __init__(
        self,
        *,
        private_key: rsa.RSAPrivateKey,
        app_secret: str,
        respond: Callable[[Mapping[str, Any]], dict[str, Any]],
    ) -> None:
        self._private_key = private_key
        self._app_secret = app_secret
        self._respond = respond

    def handle(self, request: InboundRequest) -> EndpointAnswer:
        signed = check_signature(
            request.body, request.headers.get(SIGNATURE_HEADER), self._app_secret
        )
        if signed is not SignatureCheck.VALID:
            log.warning("flow_endpoint.refused", cause=f"signature_{signed.value}")
            return _plain(SIGNATURE_FAILED, "signature verification failed")
        try:
            body = orjson.loads(request.body)
            if not isinstance(body, dict):
                raise Undecryptable("the body is not an object")
            decrypted = decrypt_request(body, self._private_key)
        except (orjson.JSONDecodeError, Undecryptable) as exc:
            log.warning("flow_endpoint.undecryptable", error_type=type(exc).__name__)
            return _plain(UNDECRYPTABLE, "the request cannot be decrypted")
        except ValueError:
            return _plain(400, "the request is not a Flows request")
        try:
            response = self._respond(decrypted.request)
        except ExchangeError as exc:
            log.warning("flow_endpoint.unanswerable", reason=str(exc)[:200])
            return _plain(400, "the request cannot be answered")
        log.info("flow_endpoint.answered", action=str(decrypted.request.get("action"))[:40])
        return EndpointAnswer(
            status=200, body=encrypt_response(response, decrypted.key, decrypted.iv)
        )


def _plain(status: int, text: str) -> EndpointAnswer:
    return EndpointAnswer(status=status, body=text.encode())
