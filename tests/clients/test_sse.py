"""SSE splitting after the stream: event times are the arrival of the piece that completed them."""

import json

from pytest_llmbench.clients.sse import iter_events, parse_openai_stream


def _chunk(content=None, **extra):
    choice = {"index": 0, "delta": {} if content is None else {"content": content}}
    return {"id": "x", "choices": [choice], **extra}


def _sse(obj):
    data = obj if isinstance(obj, str) else json.dumps(obj)
    return f"data: {data}\n\n".encode()


def test_events_split_across_pieces_take_the_completing_pieces_time():
    body = _sse(_chunk("a")) + _sse(_chunk("b"))
    cut = len(body) - 5
    events = list(iter_events([(1, body[:10]), (2, body[10:cut]), (3, body[cut:])]))
    assert [t for t, _, _ in events] == [2, 3]


def test_comments_crlf_and_event_names():
    body = b': keep-alive\r\n\r\nevent: message_start\r\ndata: {"a": 1}\r\n\r\ndata: [DONE]\r\n\r\n'
    events = list(iter_events([(1, body[:20]), (2, body[20:])]))
    assert [(name, data) for _, name, data in events] == [
        ("message_start", '{"a": 1}'),
        (None, "[DONE]"),
    ]


def test_crlf_split_between_pieces():
    body = b'data: {"a": 1}\r\n\r\n'
    events = list(iter_events([(1, body[:15]), (2, body[15:16]), (3, body[16:])]))
    assert [(t, d) for t, _, d in events] == [(3, '{"a": 1}')]


def test_parse_stops_at_malformed_event_and_keeps_what_came_before():
    body = _sse(_chunk("a")) + b'data: {"id": "x", "choices": [\n\n' + _sse(_chunk("b"))
    deltas, end = parse_openai_stream([(5, body)])
    assert [d.content for d in deltas] == ["a"]
    assert end.error is not None
    assert "malformed" in end.error


def test_error_object_in_200_stream_fails_with_provider_message():
    body = _sse(_chunk("a")) + _sse({"error": {"message": "upstream exploded", "code": 500}})
    deltas, end = parse_openai_stream([(5, body)])
    assert end.error is not None
    assert "upstream exploded" in end.error
    assert len(deltas) == 1


def test_done_and_unterminated_last_event():
    deltas, end = parse_openai_stream([(1, _sse(_chunk("a")) + b"data: [DONE]")])
    assert end.done and end.error is None and deltas[0].content == "a"
