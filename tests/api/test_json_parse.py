"""The REST client's JSON parsing (orjson where it is exact) gives what ``json.loads(bytes)`` gives.

Every comparison is strict: the same types (int stays int, -0.0 stays -0.0), the same float bits, the same
key order, or the same exception type and message.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from typing import Any

import httpx
import pytest
from api_testkit import Recorder

from langfuse_nb.api import ApiError, AsyncLangfuseAPI, LangfuseAPI, NotFoundError
from langfuse_nb.api._http import _may_hold_long_int, decode_json, send_raw

# ---- a strict comparison ---------------------------------------------------------------------------------


def shape(value: Any) -> Any:
    """A comparable form that tells apart what ``==`` does not (1 vs 1.0 vs True, 0.0 vs -0.0, nan)."""
    if isinstance(value, dict):
        return ("dict", [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [shape(v) for v in value])
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    return (type(value).__name__, value)


def outcome(parse: Any, body: bytes) -> Any:
    try:
        return ("value", shape(parse(body)))
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return ("error", type(exc).__name__, str(exc))


def assert_same(body: bytes) -> None:
    assert outcome(decode_json, body) == outcome(json.loads, body), body[:200]


# ---- the known differences between orjson and the standard library -----------------------------------------

EDGES = [
    b"18446744073709551615",  # largest uint64: orjson is exact here
    b"18446744073709551616",  # one more: orjson would give a float
    b"-9223372036854775808",
    b"-9223372036854775809",
    b"123456789012345678901234567890",
    b'{"a": [1, -123456789012345678901234567890, 2]}',
    b'{"a":123456789012345678901234567890.5}',
    b"[0.1234567890123456789012345, 1e0000000000000000000005, 1e-0000000000000000000005]",
    b"9" * 5000,  # the standard library refuses more than 4,300 digits (ValueError): same error
    b"NaN",
    b"[Infinity, -Infinity]",
    b"1e400",
    b"-1e400",
    b"1.7976931348623159e308",
    b"1e-400",
    b"-0",
    b"-0.0",
    b"[2.2250738585072011e-308, 4.9e-324, 0.1, 1E5, 1e+5, 0.30000000000000004]",
    b'"\\ud800"',
    b'"\\udc00x"',
    b'"\\ud83d\\ude00"',
    b'"\xed\xa0\x80"',  # a surrogate encoded in UTF-8: the standard library decodes it (surrogatepass)
    b'"\xff"',
    b'"\xc0\xaf"',
    b"\xef\xbb\xbf{}",
    '{"ü": "ß"}'.encode("utf-16"),
    '{"ü": "ß"}'.encode("utf-16-le"),
    '{"ü": "ß"}'.encode("utf-32"),
    b'{"a": 1, "a": 2}',
    b" \t\n\r[1] \n",
    b"",
    b" ",
    b"[1,]",
    b"{,}",
    b"01",
    b"1.",
    b".5",
    b"+1",
    b'"a\x00b"',
    b'"tab\there"',
    b"[1] x",
    b'{"a" 1}',
    b"nul",
    b"tru",
    b'"\\x"',
    b"[" * 900 + b"]" * 900,
    b"[" * 1100 + b"]" * 1100,
    b'{"id": "00000000000000000000000000000007", "n": 1}',
]


@pytest.mark.parametrize("body", EDGES, ids=range(len(EDGES)))
def test_edge_cases_match_the_standard_library(body: bytes) -> None:
    assert_same(body)


def test_long_integer_tokens_are_found_anywhere_a_number_can_start() -> None:
    long = "123456789012345678901"
    texts = [long, f"-{long}", f" {long}", f"[{long}]", f"[1,{long}]", f'{{"a":{long}}}', f'{{"a": -{long}}}']
    for text in [*texts, f"[\n  {long}\n]", f"[\t-{long}]"]:
        assert _may_hold_long_int(text.encode()), text
        assert_same(text.encode())


def test_digits_in_strings_and_dates_keep_the_fast_path() -> None:
    """All-digit trace ids and ISO dates are common: they must not send every trace to the slow parser."""
    body = json.dumps(
        {
            "id": "00000000000000000000000000000007",
            "startTime": "2023-11-14T22:13:20.007000Z",
            "n": -922337203685477580,
            "phone": "+1-555-0100-2000-3000-4000",
            "observations": [{"traceId": "0" * 32, "latency": 0.0015}],
        }
    ).encode()
    assert not _may_hold_long_int(body)
    assert_same(body)


# ---- random documents --------------------------------------------------------------------------------------


class RandomJson:
    """Seeded random JSON *text* (not only what json.dumps writes): odd numbers, escapes, whitespace."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def ws(self) -> str:
        return self.rng.choice(["", "", "", " ", "\n  ", "\t", "\r\n"])

    def number(self) -> str:
        rng = self.rng
        kind = rng.randrange(10)
        sign = rng.choice(["", "", "-"])
        if kind < 3:
            return sign + str(rng.randrange(10 ** rng.randrange(1, 18)))
        if kind == 3:  # around the 64-bit edges
            edge = rng.choice([2**63, 2**64, 10**18, 10**19])
            return sign + str(edge + rng.randrange(-3, 4))
        if kind == 4:
            return sign + str(rng.randrange(1, 10) * 10 ** rng.randrange(18, 40))
        if kind == 5:
            return repr(rng.uniform(-1e6, 1e6))
        if kind == 6:
            return repr(struct_float(rng))
        if kind == 7:
            mantissa = str(rng.randrange(1, 10 ** rng.randrange(1, 25)))
            point = rng.randrange(len(mantissa) + 1)
            digits = mantissa[:point] or "0"
            frac = mantissa[point:]
            text = sign + digits.lstrip("0").rjust(1, "0") + ("." + frac if frac else "")
            return text + rng.choice(["", f"e{rng.randrange(-330, 330)}", f"E+{rng.randrange(0, 400)}"])
        if kind == 8:
            return rng.choice(["NaN", "Infinity", "-Infinity", "1e400", "-0", "-0.0", "0e0", "1E-400"])
        return sign + "0." + "0" * rng.randrange(0, 30) + str(rng.randrange(1, 10 ** rng.randrange(1, 22)))

    def string(self) -> str:
        rng = self.rng
        parts = []
        for _ in range(rng.randrange(0, 8)):
            kind = rng.randrange(9)
            if kind < 3:
                parts.append("".join(rng.choice("abc xyz019_-:,[]{}") for _ in range(rng.randrange(1, 6))))
            elif kind == 3:
                parts.append(rng.choice(['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]))
            elif kind == 4:
                parts.append(f"\\u{rng.randrange(0x10000):04x}")  # lone surrogates included
            elif kind == 5:
                parts.append("\\ud83d\\ude00")
            elif kind == 6:
                parts.append(chr(rng.choice([rng.randrange(0x80, 0xD800), rng.randrange(0xE000, 0x110000)])))
            elif kind == 7:
                parts.append(str(rng.randrange(10 ** rng.randrange(15, 25))))
            else:
                parts.append(chr(rng.randrange(0x20)) if rng.random() < 0.05 else "é")
        return '"' + "".join(parts) + '"'

    def value(self, depth: int = 0) -> str:
        rng = self.rng
        kind = rng.randrange(10 if depth < 4 else 6)
        if kind < 2:
            return self.number()
        if kind < 4:
            return self.string()
        if kind < 6:
            return rng.choice(["true", "false", "null"])
        items = [self.ws() + self.value(depth + 1) + self.ws() for _ in range(rng.randrange(0, 5))]
        if kind < 8:
            return "[" + ",".join(items) + "]"
        keys = [rng.choice([self.string(), '"a"', '"id"']) for _ in items]
        return (
            "{" + ",".join(f"{self.ws()}{k}{self.ws()}:{v}" for k, v in zip(keys, items, strict=True)) + "}"
        )

    def body(self) -> bytes:
        text = self.ws() + self.value() + self.ws()
        data = text.encode("utf-8", "surrogatepass")
        roll = self.rng.random()
        if roll < 0.03:
            return data[: self.rng.randrange(len(data) + 1)]  # truncated
        if roll < 0.05:
            return text.encode("utf-16", "surrogatepass")
        if roll < 0.06:
            return b"\xef\xbb\xbf" + data
        return data


def struct_float(rng: random.Random) -> float:
    """Any finite double, from random bits."""
    import struct

    while True:
        value: float = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(value):
            return value


@pytest.mark.parametrize("seed", range(8))
def test_random_documents_match_the_standard_library(seed: int) -> None:
    gen = RandomJson(seed)
    for _ in range(400):
        assert_same(gen.body())


def test_random_dumped_objects_match_the_standard_library() -> None:
    """What servers actually send: json.dumps / orjson-style compact output of random values."""
    gen = RandomJson(99)
    for _ in range(300):
        text = gen.value()
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            continue
        for dumped in (json.dumps(value), json.dumps(value, separators=(",", ":"), ensure_ascii=False)):
            assert_same(dumped.encode("utf-8", "surrogatepass"))


# ---- through the REST client: 2xx values, error bodies, the raw JSON answer ----------------------------

BIG = 123456789012345678901234567890
TRACE = {
    "id": "t1",
    "timestamp": "2024-01-01T00:00:00Z",
    "htmlPath": "/t1",
    "latency": 1.5,
    "totalCost": 0.0,
    "observations": [],
    "scores": [],
    "metadata": {"big": BIG, "neg": -(2**64), "small": 2**63 - 1},
}


def test_2xx_values_keep_big_integers(api: LangfuseAPI, recorder: Recorder) -> None:
    recorder.replies.append(httpx.Response(200, json=TRACE))
    assert api.trace.get("t1").metadata == {"big": BIG, "neg": -(2**64), "small": 2**63 - 1}


def test_error_bodies_are_parsed_the_same(api: LangfuseAPI, recorder: Recorder) -> None:
    body = {"message": "no such trace", "id": BIG, "ratio": float("nan")}
    recorder.replies.append(httpx.Response(404, content=json.dumps(body).encode()))
    with pytest.raises(NotFoundError) as info:
        api.trace.get("t1")
    assert shape(info.value.body) == shape(json.loads(json.dumps(body)))
    for content in (b"<html>oops</html>", b"", b'"\xff"'):
        recorder.replies.append(httpx.Response(500, content=content))
        with pytest.raises(ApiError) as error:
            api.trace.get("t1")
        assert type(error.value) is ApiError and error.value.body == httpx.Response(500, content=content).text


def test_raw_json_answer_goes_through_the_same_retries_and_errors(
    api: LangfuseAPI, recorder: Recorder
) -> None:
    recorder.replies += [httpx.Response(429), httpx.Response(200, json=TRACE)]
    data = send_raw(api.trace, "get", "t1", request_options={"max_retries": 1, "timeout_in_seconds": 3})
    assert data == json.loads(json.dumps(TRACE)) and isinstance(data, dict)
    assert [r.url.path for r in recorder.requests] == ["/api/public/traces/t1"] * 2
    assert recorder.last.headers["authorization"].startswith("Basic ")
    assert recorder.last.extensions["timeout"]["read"] == 3
    recorder.replies.append(httpx.Response(404, json={"message": "gone"}))
    with pytest.raises(NotFoundError):
        send_raw(api.trace, "get", "t2")


def test_raw_json_answer_async(async_api: AsyncLangfuseAPI, recorder: Recorder) -> None:
    recorder.replies.append(httpx.Response(200, json=TRACE))
    data = asyncio.run(send_raw(async_api.trace, "get", "t1"))
    assert data["metadata"]["big"] == BIG
