"""Mapping files: how one source's columns become canonical fields (docs/mapping.md).

A :class:`Mapping` is loaded from YAML and validated against the canonical model.  It compiles to
DuckDB SQL: one parse expression per field and one check expression that names the column and the
reason when a value cannot be read, so a whole file is validated in a single vectorised pass.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import MappingError
from .model import CHANNELS, ENTITIES, IDENTITY_FIELDS, fields_of
from .readers import MessageSpec

ISO_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
               "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"]
_DMY = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y",
        "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d/%m/%y %H:%M", "%d/%m/%y", "%d %b %Y %H:%M", "%d %b %Y",
        "%d %B %Y %H:%M", "%d %B %Y", "%a %d %b %Y %H:%M"]


def default_date_formats(day_first: bool) -> list[str]:
    """ISO first, then day-first (UK) or month-first forms."""
    local = _DMY if day_first else [f.replace("%d/%m", "%m/%d").replace("%d-%m", "%m-%d").replace("%d.%m", "%m.%d") for f in _DMY]
    return ISO_FORMATS + local


CHANNEL_SYNONYMS = {
    "phone": "phone", "telephone": "phone", "tel": "phone", "call": "phone", "voice": "phone", "inbound call": "phone",
    "ivr": "ivr", "chat": "chat", "webchat": "chat", "web chat": "chat", "live chat": "chat", "livechat": "chat",
    "email": "email", "e-mail": "email", "mail": "email", "web": "web", "online": "web", "portal": "web", "website": "web",
    "web form": "web", "webform": "web", "app": "web", "mobile": "web", "face_to_face": "face_to_face",
    "face to face": "face_to_face", "f2f": "face_to_face", "in person": "face_to_face", "walk-in": "face_to_face",
    "counter": "face_to_face", "letter": "letter", "post": "letter", "postal mail": "letter", "social": "social",
    "twitter": "social", "facebook": "social", "social media": "social", "sms": "sms", "text": "sms",
}
TRUE_WORDS = ("y", "yes", "true", "t", "1", "1.0")
FALSE_WORDS = ("n", "no", "false", "f", "0", "0.0")


def q(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: Any) -> str:
    """A SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class FieldMap:
    """How one canonical field is filled: from a column or a constant, with optional formats and value map."""

    field: str
    column: str | None = None
    constant: Any = None
    formats: tuple[str, ...] = ()
    values: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class SurveyItem:
    item: str
    column: str
    scale: tuple[float, float]


@dataclass
class Mapping:
    """A validated mapping for one source."""

    source: str
    entity: str
    version: int = 1
    key: tuple[str, ...] = ()
    fields: dict[str, FieldMap] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    format: dict[str, Any] = field(default_factory=dict)
    messages: MessageSpec | None = None
    survey_items: tuple[SurveyItem, ...] = ()
    customer_id_scheme: str | None = None
    customer_id_level: str = "person"  # or "household": the id names a tenancy/account shared by a household
    path: Path | None = None

    @property
    def fingerprint(self) -> str:
        """Hash of the mapping's meaning, recorded on every batch it loads."""
        return hashlib.sha256(repr((self.entity, self.key, sorted(self.fields.items()), sorted(self.identity.items()),
                                    self.format, self.messages, self.survey_items)).encode()).hexdigest()[:12]

    def columns_used(self) -> list[str]:
        cols = list(self.key)
        cols += [f.column for f in self.fields.values() if f.column]
        cols += list(self.identity.values())
        cols += [s.column for s in self.survey_items]
        return list(dict.fromkeys(cols))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "source": self.source, "entity": self.entity}
        if self.format:
            out["format"] = dict(self.format)
        out["key"] = list(self.key)
        consts = {k: f.constant for k, f in self.fields.items() if f.column is None}
        if consts:
            out["constants"] = consts
        fields: dict[str, Any] = {}
        for k, f in self.fields.items():
            if f.column is None:
                continue
            if f.formats or f.values:
                d: dict[str, Any] = {"column": f.column}
                if f.formats:
                    d["formats"] = list(f.formats)
                if f.values:
                    d["values"] = dict(f.values)
                fields[k] = d
            else:
                fields[k] = f.column
        out["fields"] = fields
        if self.identity:
            out["identity"] = dict(self.identity)
        if self.customer_id_scheme:
            out["customer_id_scheme"] = self.customer_id_scheme
        if self.customer_id_level != "person":
            out["customer_id_level"] = self.customer_id_level
        if self.messages:
            m = self.messages
            out["messages"] = {"path": m.path, "role": m.role, "text": m.text, "customer_roles": list(m.customer_roles)}
        if self.survey_items:
            out["survey_items"] = {s.item: {"column": s.column, "scale": list(s.scale)} for s in self.survey_items}
        return out

    def dump(self, path: Path, header: str = "") -> None:
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)
        path.write_text((header + "\n" if header else "") + text, encoding="utf-8")


def parse_mapping(doc: Any, where: str) -> Mapping:
    """Validate a mapping document (already parsed YAML); errors name the file and the key."""
    if not isinstance(doc, dict):
        raise MappingError(f"{where}: a mapping must be a YAML mapping with source, entity and fields (see docs/mapping.md).")
    entity = doc.get("entity")
    if entity not in ENTITIES:
        raise MappingError(f"{where}: entity {entity!r} is not one of {', '.join(ENTITIES)}.")
    source = str(doc.get("source") or "")
    if not source or not re.fullmatch(r"[A-Za-z0-9_\-]+", source):
        raise MappingError(f"{where}: source must be a name of letters, digits, - or _ (got {source!r}).")
    model = fields_of(entity)
    fmaps: dict[str, FieldMap] = {}
    for name, value in (doc.get("constants") or {}).items():
        if name not in model:
            raise MappingError(f"{where}: constants.{name} is not a field of {entity}; fields are {', '.join(model)}.")
        fmaps[name] = FieldMap(name, constant=value)
    for name, spec in (doc.get("fields") or {}).items():
        if name not in model:
            hint = " It is an identity field: put it under identity:." if name in IDENTITY_FIELDS else ""
            raise MappingError(f"{where}: fields.{name} is not a field of {entity}.{hint} Fields are {', '.join(model)}.")
        if isinstance(spec, str):
            fmaps[name] = FieldMap(name, column=spec)
        elif isinstance(spec, dict) and ("column" in spec or "constant" in spec):
            values = spec.get("values") or {}
            if not isinstance(values, dict):
                raise MappingError(f"{where}: fields.{name}.values must map raw values to canonical ones.")
            fmaps[name] = FieldMap(name, column=spec.get("column"), constant=spec.get("constant"),
                                   formats=tuple(spec.get("formats") or ()),
                                   values=tuple((str(k).strip().lower(), v) for k, v in values.items()))
        else:
            raise MappingError(f"{where}: fields.{name} must be a column name or {{column: ..., formats/values: ...}}.")
    identity = {}
    for name, col in (doc.get("identity") or {}).items():
        if name not in IDENTITY_FIELDS:
            raise MappingError(f"{where}: identity.{name} is not an identity field; they are {', '.join(IDENTITY_FIELDS)}.")
        identity[name] = str(col)
    key = doc.get("key") or []
    key = (key,) if isinstance(key, str) else tuple(str(k) for k in key)
    messages = None
    if doc.get("messages"):
        m = doc["messages"]
        messages = MessageSpec(path=str(m.get("path", "messages")), role=str(m.get("role", "from")), text=str(m.get("text", "body")),
                               customer_roles=tuple(str(r).lower() for r in m.get("customer_roles", ("customer", "visitor", "user"))))
    items = []
    for item, spec in (doc.get("survey_items") or {}).items():
        if entity != "survey":
            raise MappingError(f"{where}: survey_items only belong in a survey mapping.")
        try:
            lo, hi = (float(x) for x in spec["scale"])
            items.append(SurveyItem(str(item), str(spec["column"]), (lo, hi)))
        except (KeyError, TypeError, ValueError):
            raise MappingError(f"{where}: survey_items.{item} needs column and scale: [low, high].") from None
    mp = Mapping(source=source, entity=entity, version=int(doc.get("version", 1)), key=key, fields=fmaps, identity=identity,
                 format=dict(doc.get("format") or {}), messages=messages, survey_items=tuple(items),
                 customer_id_scheme=str(doc["customer_id_scheme"]) if doc.get("customer_id_scheme") else None,
                 customer_id_level=str(doc.get("customer_id_level", "person")))
    if mp.customer_id_level not in ("person", "household"):
        raise MappingError(f"{where}: customer_id_level must be person or household, not {mp.customer_id_level!r}.")
    missing = [f.name for f in ENTITIES[entity] if f.required and f.name not in fmaps and not _from_messages(mp, f.name)]
    if missing:
        raise MappingError(f"{where}: required field(s) {', '.join(missing)} of {entity} are not mapped. "
                           "Map them under fields: (a column) or constants: (a fixed value).")
    return mp


def _from_messages(mp: Mapping, name: str) -> bool:
    return mp.messages is not None and name in ("text", "agent_text", "message_count", "customer_message_count")


def load_mapping(path: Path) -> Mapping:
    """Load and validate a mapping file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"No mapping file {path}. Create one with `cxchain map suggest FILE --source NAME`.") from None
    except yaml.YAMLError as e:
        raise MappingError(f"{path} is not valid YAML: {e}") from None
    mp = parse_mapping(doc, str(path))
    mp.path = path
    return mp


def resolve_column(wanted: str, columns: list[str]) -> str | None:
    """Find a mapped column in a file: exact, then ignoring case, spaces and punctuation."""
    if wanted in columns:
        return wanted

    def norm(s: str) -> str:
        return re.sub(r"[^a-z0-9]", "", s.lower())

    hits = [c for c in columns if norm(c) == norm(wanted)]
    return hits[0] if len(hits) == 1 else None


# --- SQL compilation ---------------------------------------------------------------------------------


def _blank(col: str) -> str:
    return f"(nullif(trim({col}), '') IS NULL)"


def _values_case(col: str, values: tuple[tuple[str, Any], ...], default: str) -> str:
    if not values:
        return default
    # Values are rendered as text; the field's own parse casts them (so Y: 1 works for an integer field).
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(_text(v))}" for k, v in values)
    return f"(CASE lower(trim({col})) {whens} ELSE {default} END)"


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _strptime_runs(c: str, formats: list[str]) -> str:
    """``try_strptime`` over ``formats`` in order, where a format with a 4-digit year (%Y) reads only a text
    holding four digits in a row.  DuckDB's %Y also reads '25' (the year 25): '01/03/25' would be read by
    '%d/%m/%Y' as 1 March of the year 25 before '%d/%m/%y' reads it as 1 March 2025 (and Spark's 'yyyy'
    needs four digits, so the engines would differ too)."""
    runs: list[tuple[bool, list[str]]] = []
    for f in formats:
        long_year = "%Y" in f
        if runs and runs[-1][0] == long_year:
            runs[-1][1].append(f)
        else:
            runs.append((long_year, [f]))
    parts = []
    for long_year, fmts in runs:
        one = f"try_strptime(trim({c}), [{', '.join(lit(f) for f in fmts)}])"
        parts.append(f"CASE WHEN regexp_matches(trim({c}), '\\d{{4}}') THEN {one} END" if long_year else one)
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def compile_field(fm: FieldMap, ftype: str, col: str | None, *, day_first: bool, excel: bool, secret: str,
                  choices: tuple[str, ...] = (), timezone: str = "Europe/London") -> tuple[str, str | None]:
    """(value expression, check expression giving a reason or NULL) for one field."""
    if col is None:
        v = fm.constant
        if ftype == "ref" and v is not None:
            return f"substr(sha256({lit(secret)} || {lit(str(v))}), 1, 16)", None
        return lit(v), None
    c = col
    label = fm.column or fm.field
    if ftype == "datetime" or ftype == "date":
        fmts = list(fm.formats) or default_date_formats(day_first)
        naive = [f for f in fmts if "%z" not in f and "%Z" not in f]
        aware = [f for f in fmts if f not in naive]
        tries = [_strptime_runs(c, naive)] if naive else []
        if aware:  # offsets are converted to the workspace's local time zone
            tries.append(f"timezone({lit(timezone)}, {_strptime_runs(c, aware)})")
        # DuckDB's cast reads '01/03/25' as the year 1: a text cast as a timestamp starts with a 4-digit year.
        tries.append(f"CASE WHEN NOT regexp_matches(trim({c}), '^\\d{{4}}') THEN NULL "
                     f"WHEN regexp_matches(trim({c}), '(Z|[+-]\\d{{2}}:?\\d{{2}})$') "
                     f"THEN timezone({lit(timezone)}, try_cast(trim({c}) AS TIMESTAMPTZ)) ELSE try_cast(trim({c}) AS TIMESTAMP) END")
        parsed = f"coalesce({', '.join(tries)})"
        if excel:
            serial = (f"CASE WHEN regexp_full_match(trim({c}), '\\d{{5}}(\\.\\d+)?') THEN TIMESTAMP '1899-12-30' + "
                      f"to_microseconds(CAST(round(CAST(trim({c}) AS DOUBLE) * 86400000000) AS BIGINT)) END")
            parsed = f"coalesce({serial}, {parsed})"
        value = f"(CASE WHEN {_blank(c)} THEN NULL ELSE {parsed} END)"
        if ftype == "date":
            value = f"CAST({value} AS DATE)"
        check = (f"CASE WHEN NOT {_blank(c)} AND {value} IS NULL THEN {lit(label)} || ': ' || {lit(chr(39))} || left(trim({c}), 40) || "
                 f"{lit(chr(39) + ' is not a date in any known format; add its format under fields.' + fm.field + '.formats')} END")
        return value, check
    if ftype == "duration":
        t = f"trim({c})"
        value = (f"(CASE WHEN {_blank(c)} THEN NULL "
                 f"WHEN regexp_full_match({t}, '\\d+(\\.\\d+)?') THEN CAST({t} AS DOUBLE) "
                 f"WHEN regexp_full_match({t}, '\\d+:\\d{{1,2}}:\\d{{1,2}}(\\.\\d+)?') THEN "
                 f"CAST(split_part({t}, ':', 1) AS DOUBLE) * 3600 + CAST(split_part({t}, ':', 2) AS DOUBLE) * 60 + CAST(split_part({t}, ':', 3) AS DOUBLE) "
                 f"WHEN regexp_full_match({t}, '\\d+:\\d{{1,2}}(\\.\\d+)?') THEN "
                 f"CAST(split_part({t}, ':', 1) AS DOUBLE) * 60 + CAST(split_part({t}, ':', 2) AS DOUBLE) END)")
        check = (f"CASE WHEN NOT {_blank(c)} AND {value} IS NULL THEN {lit(label)} || ': ' || {lit(chr(39))} || left(trim({c}), 40) || "
                 f"{lit(chr(39) + ' is not a duration (seconds, mm:ss or hh:mm:ss)')} END")
        return value, check
    if ftype in ("integer", "number"):
        mapped = _values_case(c, fm.values, f"trim({c})")
        num = f"try_cast(replace(replace(CAST({mapped} AS VARCHAR), ',', ''), '£', '') AS DOUBLE)"
        value = f"(CASE WHEN {_blank(c)} THEN NULL ELSE {num} END)"
        # A whole number within BIGINT's range (so 'inf', 'nan' or 1e30 are quarantined, not a failed cast);
        # only whole numbers are cast, so no engine's rounding of a fraction is ever met.
        whole = f"coalesce(abs({value}) < 9.2e18 AND {value} = floor({value}), false)"
        bad = f"{value} IS NULL" if ftype == "number" else f"NOT {whole}"
        if ftype == "integer":
            value = f"CAST(CASE WHEN {whole} THEN {value} END AS BIGINT)"
        check = (f"CASE WHEN NOT {_blank(c)} AND {bad} THEN {lit(label)} || ': ' || {lit(chr(39))} || left(trim({c}), 40) || "
                 f"{lit(chr(39) + ' is not a ' + ('whole number' if ftype == 'integer' else 'number'))} END")
        return value, check
    if ftype == "boolean":
        t = f"lower(trim({c}))"
        mapped = _values_case(c, fm.values, "NULL")
        value = (f"(CASE WHEN {_blank(c)} THEN NULL WHEN {mapped} IS NOT NULL THEN CAST({mapped} AS BOOLEAN) "
                 f"WHEN {t} IN ({', '.join(lit(w) for w in TRUE_WORDS)}) THEN TRUE "
                 f"WHEN {t} IN ({', '.join(lit(w) for w in FALSE_WORDS)}) THEN FALSE END)")
        check = (f"CASE WHEN NOT {_blank(c)} AND {value} IS NULL THEN {lit(label)} || ': ' || {lit(chr(39))} || left(trim({c}), 40) || "
                 f"{lit(chr(39) + ' is not yes/no; map it under fields.' + fm.field + '.values')} END")
        return value, check
    if ftype == "ref":
        return f"(CASE WHEN {_blank(c)} THEN NULL ELSE substr(sha256({lit(secret)} || trim({c})), 1, 16) END)", None
    if ftype == "category":
        base = f"nullif(trim({c}), '')"
        if choices:
            syn = dict(CHANNEL_SYNONYMS) if choices == CHANNELS else {}
            syn.update({ch: ch for ch in choices})
            pairs = tuple(fm.values) + tuple((k, v) for k, v in syn.items() if k not in dict(fm.values))
            value = _values_case(c, pairs, "NULL")
            check = (f"CASE WHEN NOT {_blank(c)} AND {value} IS NULL THEN {lit(label)} || ': ' || {lit(chr(39))} || left(trim({c}), 40) || "
                     f"{lit(chr(39) + ' is not one of ' + ', '.join(choices) + '; map it under fields.' + fm.field + '.values')} END")
            return value, check
        return _values_case(c, fm.values, base), None
    # free text: kept verbatim here, redacted before storage
    return f"nullif({c}, '')", None
