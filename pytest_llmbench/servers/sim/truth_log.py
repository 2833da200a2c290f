"""The built-in server's truth log, read over HTTP (standard library only).

:class:`SimLog` reads the log of a simulator at ``base_url``: one this process started
(:class:`~.server.SimServer` is one) or one started elsewhere, such as the one a pytest-xdist
controller runs for a load point spread over its workers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pytest_llmbench.servers.process import LOOPBACK_OPENER

if TYPE_CHECKING:  # the log module is only named in annotations here
    from pytest_llmbench.servers.sim.log import EventForm

__all__ = ["SimLog"]


class SimLog:
    """The truth log of the simulator at ``base_url`` (``http://127.0.0.1:PORT``, no ``/v1``)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _get(self, path: str) -> Any:
        with LOOPBACK_OPENER.open(self.base_url + path, timeout=10) as response:
            return json.loads(response.read())

    def requests(
        self,
        since_ns: int | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        events: EventForm = "all",
    ) -> list[dict[str, Any]]:
        """Truth-log records (see :mod:`pytest_llmbench.servers.sim.log`): every one so far, or
        those the server received at or after ``since_ns`` on the shared monotonic clock, oldest
        logged first; skipping the first ``offset`` of them and at most ``limit`` of them, and,
        with ``events="ends"``, each with only its first and last event (the other fields whole).

        A bad value (negative ``offset``, ``limit`` below 1, another ``events``) is refused by the
        server: :class:`urllib.error.HTTPError` 400. For a large log, see :meth:`iter_requests`.
        """
        params: dict[str, object] = {}
        if since_ns is not None:
            params["since_ns"] = since_ns
        if offset:
            params["offset"] = offset
        if limit is not None:
            params["limit"] = limit
        if events != "all":
            params["events"] = events
        query = "?" + urllib.parse.urlencode(params) if params else ""
        records: list[dict[str, Any]] = self._get("/llmbench/requests" + query)
        return records

    def iter_requests(
        self, since_ns: int | None = None, *, page: int = 2000, events: EventForm = "ends"
    ) -> Iterator[dict[str, Any]]:
        """The records of :meth:`requests`, fetched ``page`` at a time (so the client never holds
        more than one page's JSON), compact by default (``events="ends"``: first and last event
        only, enough for :func:`~pytest_llmbench.measure.truth.truth_from_log`).

        Stops at the first page shorter than ``page``. The log only grows at its end, so a record
        logged while iterating never shifts the pages: it comes if it is logged before its page is
        fetched. :class:`ValueError` if ``page`` is below 1.
        """
        if page < 1:
            raise ValueError(f"page must be at least 1, not {page}")
        offset = 0
        while True:
            records = self.requests(since_ns, offset=offset, limit=page, events=events)
            yield from records
            if len(records) < page:
                return
            offset += len(records)

    def request(self, request_id: str) -> dict[str, Any]:
        """The truth-log record of one request; :class:`KeyError` if there is none."""
        try:
            record: dict[str, Any] = self._get(
                "/llmbench/requests/" + urllib.parse.quote(request_id, safe="")
            )
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise KeyError(request_id) from None
            raise
        return record
