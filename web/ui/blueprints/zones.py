"""The zone picker's server side, shared by every zone field.

GET /zones/suggest?q=     JSON suggestions (the picker's script)
GET /zones/find?q=&next=  a page of choices; with ``next`` (a local path) a single match
                          goes straight back there with ``tz=`` set (works without script)
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue

from web.domain.zonesearch import ZoneMatch, search_zones
from web.domain.zonetext import utc_stamp, zone_display
from web.ui.helpers import now
from web.ui.security import safe_next

bp = Blueprint("zones", __name__, url_prefix="/zones")


def with_zone(target: str, zone: str) -> str:
    """``target`` with its ``tz`` parameter set to ``zone`` (other parameters kept)."""
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "tz"]
    return urlunsplit(("", "", parts.path, urlencode([*query, ("tz", zone)]), ""))


def _as_json(m: ZoneMatch) -> dict[str, str]:
    return {
        "zone": m.zone,
        "place": m.place,
        "name": zone_display(m.zone, m.local_now),
        "local": m.local_now.strftime("%H:%M"),
        "now": utc_stamp(m.local_now),
    }


@bp.get("/suggest")
def suggest() -> ResponseReturnValue:
    found = search_zones(request.args.get("q", ""), now())
    resp = jsonify(
        {
            "exact": found.exact.zone if found.exact else None,
            "kind": found.kind,
            "matches": [_as_json(m) for m in found.matches],
        }
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/find")
def find() -> ResponseReturnValue:
    query = request.args.get("q", "")
    target = safe_next(request.args.get("next", ""))
    found = search_zones(query, now())
    if found.exact is not None and target is not None:
        return redirect(with_zone(target, found.exact.zone), 303)
    return render_template(
        "zones/find.html",
        query=query,
        found=found,
        target=target,
        links=[(m, with_zone(target, m.zone) if target else None) for m in found.matches],
    )
