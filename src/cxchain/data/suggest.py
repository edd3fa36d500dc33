"""Propose a mapping for an unknown export from its column names and the shapes of its values."""

from __future__ import annotations

import re
from pathlib import Path

from .mapping import Mapping, parse_mapping
from .readers import read_sample

# (canonical target, name pattern).  "id:" targets are identity fields.  Order matters: first match wins.
_NAME_RULES: list[tuple[str, str]] = [
    ("id:email", r"e-?mail|from_address|email_address"),
    ("id:phone", r"phone|mobile|tel\b|telephone|\bcli\b|caller.?(no|number)|msisdn|ani\b"),
    ("id:postcode", r"post.?code|zip"),
    ("id:uprn", r"\buprn\b"),
    ("id:first_name", r"first.?name|forename|given"),
    ("id:last_name", r"last.?name|surname|family.?name"),
    ("id:name", r"(customer|caller|contact|visitor|complainant|respondent|from|tenant).?name|^name$|full.?name"),
    ("id:address", r"address|street"),
    ("id:dob", r"\bdob\b|birth"),
    ("id:customer_id", r"account.?(no|num|id)?|customer.?(no|num|id|ref)|tenancy.?(ref|no|id)|user.?id|author_id"),
    ("ended_at", r"\bend|ended|finish|closed.?(at|time|date)?$|completed"),
    ("answered_at", r"answer(ed)?.?(time|at)?$"),
    ("resolved_at", r"resolved|closed|completed|date.?closed"),
    ("promised_at", r"promised|target|due"),
    ("acknowledged_at", r"acknowledg"),
    ("responded_at", r"respon(ded|se).?(date|at)?$"),
    ("received_at", r"received|date.?received"),
    ("created_at", r"created|raised|opened|logged|date.?submitted"),
    ("responded_at@survey", r"(response|survey).?date"),
    ("started_at", r"start|offered|received|timestamp|created|date|time"),
    ("wait_s", r"wait|queue.?time|asa"),
    ("talk_s", r"talk|handle|duration|handling"),
    ("hold_s", r"hold"),
    ("wrap_s", r"wrap|acw|after.?call"),
    ("transfers", r"transfer"),
    ("abandoned", r"abandon"),
    ("resolved", r"^resolved$|fcr|first.?contact"),
    ("coded_reason", r"wrap.?code|reason|disposition|category|issue|topic|type"),
    ("category", r"category|issue|product|complaint.?type|type"),
    ("queue", r"queue|skill|mailbox|inbox|department"),
    ("team", r"team|group|agency"),
    ("agent", r"agent|advisor|handler|staff"),
    ("ivr_path", r"menu|ivr|path"),
    ("channel", r"channel|via|medium|source"),
    ("stage", r"stage|level"),
    ("upheld", r"upheld"),
    ("status", r"status|state"),
    ("business_area", r"service.?area|business.?area|directorate|department"),
    ("text", r"text|body|notes|comment|verbatim|narrative|description|summary|message|detail|descriptor|subject"),
]
_TEXT_FIELD = {"contact": "text", "case": "text", "complaint": "text", "survey": "verbatim"}
_SHAPES = {
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I),
    "phone": re.compile(r"^\+?[\d\s()\-]{10,16}$"),
    "datetime": re.compile(r"^\d{1,4}[/\-.]\d{1,2}[/\-.]\d{2,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?|^\d{4}-\d{2}-\d{2}"),
    "duration": re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$"),
    "postcode": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$", re.I),
    "score": re.compile(r"^\d{1,2}$"),
}


def _shape(values: list[str]) -> str | None:
    vals = [v.strip() for v in values if v and v.strip()]
    if not vals:
        return None
    for name, rx in _SHAPES.items():
        if sum(1 for v in vals if rx.match(v)) >= 0.8 * len(vals):
            return name
    if sum(len(v) for v in vals) / len(vals) > 40:
        return "longtext"
    return None


def _guess_entity(columns: list[str]) -> str:
    text = " ".join(columns).lower()
    if re.search(r"\bstage\b|upheld|complain", text):
        return "complaint"
    if re.search(r"nps|csat|recommend|satisf|survey|score|rating", text):
        return "survey"
    if re.search(r"case|ticket|job|repair|work.?order|request|closed", text):
        return "case"
    return "contact"


def suggest_mapping(path: Path, source: str, *, entity: str | None = None) -> tuple[Mapping, list[str]]:
    """A mapping proposal for ``path`` and notes on what to check; every guess is listed in the notes."""
    columns, rows, fmt = read_sample(path)
    entity = entity or _guess_entity(columns)
    notes = [f"entity guessed as {entity} from the column names" ]
    values = {c: [r.get(c) or "" for r in rows] for c in columns}
    fields: dict[str, object] = {}
    identity: dict[str, str] = {}
    items: dict[str, dict[str, object]] = {}
    from .model import fields_of

    model = fields_of(entity)
    used: set[str] = set()
    key: list[str] = []
    for c in columns:
        low = c.lower()
        if not key and re.search(r"(^|[\s_])(id|ref|reference|number|no)$|^id$|_id$|key", low) and not re.search(r"account|customer|agent|user|author|tenancy|conn|thread|linked|contact ref|case ref", low):
            key = [c]
            used.add(c)
    if entity == "survey":
        for c in columns:
            low = c.lower()
            vs = [v for v in values[c] if v.strip()]
            nums = [float(v) for v in vs if re.fullmatch(r"\d+(\.\d+)?", v.strip())]
            if not nums or len(nums) < 0.8 * max(1, len(vs)):
                continue
            if re.search(r"nps|recommend|likely", low):
                items["nps"] = {"column": c, "scale": [0, 10]}
            elif re.search(r"effort|easy|ces", low):
                items["ces"] = {"column": c, "scale": [1, 7] if max(nums) > 5 else [1, 5]}
            elif re.search(r"csat|satisf|rating|score", low):
                items["csat"] = {"column": c, "scale": [1, 5] if max(nums) <= 5 else [0, 10]}
            else:
                continue
            used.add(c)
            notes.append(f"{c!r} read as survey item {list(items)[-1]} on {items[list(items)[-1]]['scale']}: check the scale")
    for c in columns:
        if c in used:
            continue
        shape = _shape(values[c])
        target = None
        for tgt, pat in _NAME_RULES:
            name, _, only = tgt.partition("@")
            if only and only != entity:
                continue
            if re.search(pat, c.lower()):
                if name.startswith("id:"):
                    if name[3:] not in identity:
                        target = name
                        break
                    continue
                if name in model and name not in fields:
                    target = name
                    break
        if target is None and shape == "email" and "email" not in identity:
            target = "id:email"
        if target is None and shape == "postcode" and "postcode" not in identity:
            target = "id:postcode"
        if target is None and shape == "longtext" and _TEXT_FIELD[entity] not in fields and _TEXT_FIELD[entity] in model:
            target = _TEXT_FIELD[entity]
        if target == "text" and entity == "survey":
            target = "verbatim"
        if target is None:
            notes.append(f"column {c!r} is not mapped")
            continue
        if target.startswith("id:"):
            identity[target[3:]] = c
        else:
            f = model.get(target)
            if f is None:
                continue
            if f.type in ("datetime", "date") and shape not in ("datetime", None):
                notes.append(f"column {c!r} looked like {target} by name but its values are not dates: not mapped")
                continue
            if f.type == "duration" and shape not in ("duration", "score", None):
                pass
            fields[target] = c
        used.add(c)
    doc: dict[str, object] = {"version": 1, "source": source, "entity": entity, "key": key, "fields": fields}
    if fmt == "json" and any(c.startswith("_messages.") for c in columns):
        doc["messages"] = {"path": "messages"}
    constants: dict[str, object] = {}
    for f in model.values():
        if f.required and f.name not in fields:
            if f.name == "channel":
                constants["channel"] = "phone"
                notes.append("channel set to the constant 'phone': change it if this source is another channel")
            elif f.name == "case_type":
                constants["case_type"] = "case"
            elif f.name == "instrument":
                constants["instrument"] = "survey"
            elif f.name == "stage":
                constants["stage"] = 1
                notes.append("stage set to the constant 1: map the stage column if the file has one")
            else:
                notes.append(f"required field {f.name} could not be found: map it before ingesting")
    if constants:
        doc["constants"] = constants
    if identity:
        doc["identity"] = identity
    if items:
        doc["survey_items"] = items
    if not key:
        notes.append("no key column found: rows will be keyed by their content (identical rows count as duplicates)")
    try:
        mp = parse_mapping(doc, str(path))
    except Exception as e:  # the suggestion still tells the user what to fix
        notes.append(f"the suggestion is incomplete: {e}")
        doc.setdefault("constants", {})
        mp = parse_mapping({**doc, "constants": {**constants, **{f.name: "unknown" for f in model.values() if f.required and f.name not in fields and f.name not in constants}}}, str(path))
    return mp, notes
