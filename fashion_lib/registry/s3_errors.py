"""What an S3 registry's failures mean, in one line each, with the exit code the README's table gives."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

from ..errors import BucketNotFound, FashionError, RegistryAccessDenied, RegistryError, RegistryUnreachable
from .s3_settings import setting_error, unusable_files

ACCESS_HINT = (
    "check your AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and the bucket's permissions"
)
DENIED = {
    "AccessDenied",
    "403",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "AllAccessDisabled",
    "AccountProblem",
}
MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
# What S3's GET answers a version id it could never have issued (malformed, or from another server): AWS says
# InvalidArgument, SeaweedFS InvalidRequest. A HEAD's answer has no body: its bare 400 says only "400", as it does
# to an expired session token (AWS) or a bad region, so it is asked again (S3Registry._why_400), never read alone.
VERSION_REFUSED = {"InvalidArgument", "InvalidRequest"}
SERVER_FAILED = {"InternalError", "ServiceUnavailable", "SlowDown"}  # HTTP 500 and 503: the server, not the request


def code_of(exc: BaseException) -> str:
    """S3's error code of a ClientError ("400", "404" for a HEAD, whose answer has no body); "" for none.
    The only reader of the code: every comparison (DENIED, MISSING, ...) goes through it."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return "" if code is None else str(code)


def missing(exc: BaseException, versioned: bool) -> bool:
    """Whether S3 refused a HEAD or GET (a ClientError) because what it asked for is not there: no such key or
    version, or, for a request naming a version (``versioned``), an error code refusing its id: no version of that
    id is here (a manifest edited by hand, or copied from another server), as for NoSuchVersion. A bare 400 (a
    HEAD's, without a code) is not: it may be an expired token; so is any 400 to a request naming no version."""
    code = code_of(exc)
    return code in MISSING or (versioned and code in VERSION_REFUSED)


def bare_400(exc: BaseException) -> bool:
    """Whether S3 answered 400 without saying why (a HEAD has no body): a refused version id or anything else."""
    return code_of(exc) == "400"


def from_s3(headers: object) -> bool:
    """Whether an answer's headers carry S3's own ``x-amz-*`` ones (every S3 server sends some)."""
    return any(str(key).lower().startswith("x-amz-") for key in (headers or {}))


class NotS3Answer(RegistryUnreachable):
    """The endpoint answered, but as no S3 server does (a web server, a proxy's page): the URL is wrong."""

    def __init__(self, where: str, answer: str) -> None:
        self.answer = answer  # "HTTP 404 with a web page"
        variable = next((v for v in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL") if os.environ.get(v)), None)
        super().__init__(
            f"{where}: the endpoint answered, but not as an S3 server would ({answer}); "
            + (f"check that {variable} is the S3 server's URL" if variable else "check the network (a proxy?)")
        )


@contextlib.contextmanager
def s3_errors(doing: str, where: str) -> Iterator[None]:
    """Turn what boto3 and quilt3 raise inside the block into one-line registry errors about ``where``.

    No ``except`` clause imports anything: an interrupt that lands in quilt3's import must stay an
    interrupt, not meet a half-imported quilt3 here."""
    import botocore.exceptions as bx

    try:
        yield
    except NotS3Answer as exc:
        raise NotS3Answer(f"{doing}: {where}", exc.answer) from None
    except (FashionError, KeyboardInterrupt):
        raise
    except bx.ClientError as exc:
        code, text = code_of(exc), exc.response.get("Error", {}).get("Message") or str(exc)
        said = f"S3 said {code}: {text}" if code else f"S3 said: {text}"
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        if code.isdigit() and not from_s3(headers):
            raise NotS3Answer(f"{doing}: {where}", f"HTTP {code} {text}") from None  # the rest: quilt.not_s3
        if code == "NoSuchBucket":
            raise BucketNotFound(
                f"{doing}: {where}: the bucket does not exist; create it or set FASHION_REGISTRY to another registry"
            ) from None
        if code in DENIED:
            raise RegistryAccessDenied(
                f"{doing}: {where}: access denied ({code}); {ACCESS_HINT}{unusable_files()}"
            ) from None
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in SERVER_FAILED or status >= 500:  # a server stopping, overloaded or failing: as unreachable
            raise RegistryUnreachable(
                f"{doing}: {where}: the server failed ({said}), after retries; try again later"
            ) from None
        raise RegistryError(f"{doing}: {where}: {said}") from None
    except bx.NoCredentialsError:
        raise RegistryAccessDenied(
            f"{doing}: no AWS credentials for {where}; set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            + unusable_files()
        ) from None
    except bx.SSLError as exc:
        raise RegistryUnreachable(f"{doing}: cannot reach {where}: {_tls_failure(exc)}") from None
    except _unreachable(bx) as exc:
        raise RegistryUnreachable(
            f"{doing}: cannot reach {where} ({_in_short(exc)}); check AWS_ENDPOINT_URL, "
            "the network, or choose another registry with FASHION_REGISTRY"
        ) from None
    except bx.BotoCoreError as exc:
        raise setting_error(exc) or RegistryError(f"{doing}: {where}: {exc}") from None
    except _no_valid_client():  # quilt3's word for a 403, signed and unsigned
        raise RegistryAccessDenied(
            f"{doing}: {where}: access denied (HTTP 403); {ACCESS_HINT}{unusable_files()}"
        ) from None
    except OSError as exc:  # a file it read (a CA bundle, a config): named, as a local registry's are
        named = f": {exc.filename}" if exc.strerror and exc.filename is not None else ""
        raise RegistryError(f"{doing}: {where}: {exc.strerror or exc}{named}") from None


def _unreachable(bx: ModuleType) -> tuple[type[BaseException], ...]:
    """What a server that is not there, not answering, or gone mid-answer raises."""
    from urllib3.exceptions import ProtocolError

    return (
        bx.ConnectionError,  # refused, no route, connect timeout, proxy
        bx.HTTPClientError,  # connection closed, read timeout, the answer's stream broken off
        bx.IncompleteReadError,  # the server went away mid-body: "4194304 read, but total bytes expected is ..."
        ProtocolError,
    )


def _in_short(exc: BaseException) -> str:
    if exc.__class__.__name__ in ("IncompleteReadError", "ResponseStreamingError", "ProtocolError"):
        return f"the connection broke off mid-answer: {exc}"
    return str(exc)


# What OpenSSL says when the other end answers a TLS hello in plain HTTP.
_PLAIN_HTTP = ("wrong version number", "record layer failure", "packet length too long", "http request")


def _tls_failure(exc: BaseException) -> str:
    text = str(exc)
    if any(sign in text.lower().replace("_", " ") for sign in _PLAIN_HTTP):
        return (
            "the endpoint does not speak HTTPS (it answered in plain HTTP); "
            "use an http:// AWS_ENDPOINT_URL for it, or put TLS in front of it"
        )
    return f"the TLS connection failed ({text}); check AWS_ENDPOINT_URL, and AWS_CA_BUNDLE for a private certificate"


def _no_valid_client() -> type[BaseException] | tuple[()]:
    """quilt3's S3NoValidClientError if quilt3 is imported (only then can it be raised); never imports it."""
    module = sys.modules.get("quilt3.data_transfer")
    return getattr(module, "S3NoValidClientError", ())
