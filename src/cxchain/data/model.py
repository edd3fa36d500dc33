"""The canonical model: what every silo is mapped onto.

Each entity is a table in the analytical store.  Fields are declared once here, as data: the
mapping layer, the validators, the store's DDL and the docs are all derived from these tables.

Identifiers that could single out a person (names, phones, emails, postcodes, addresses, the
source system's own customer or account number, date of birth) are *not* fields of any entity:
they are :data:`IDENTITY_FIELDS` and go only to the identity store.  Reference fields that point
at a household or property (``property_ref``, ``tenancy_ref``, ``customer_ref``) are stored as
keyed hashes, so analysts can group by them but cannot read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "category", "datetime", "date", "duration", "integer", "number", "boolean", "ref"]

#: Physical DuckDB type of each logical field type.
SQL_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "category": "VARCHAR",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "duration": "DOUBLE",  # seconds
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "ref": "VARCHAR",  # keyed hash of a reference to another record / household / property
}


@dataclass(frozen=True)
class Field:
    """One canonical field.

    ``free_text`` fields hold customer words: they are redacted before storage.
    ``required`` fields must be present, or the row is quarantined.
    """

    name: str
    type: FieldType
    help: str
    required: bool = False
    free_text: bool = False
    choices: tuple[str, ...] = ()


CHANNELS = ("phone", "ivr", "chat", "email", "web", "face_to_face", "letter", "social", "sms")

CONTACT = (
    Field("channel", "category", "Channel the customer used.", required=True, choices=CHANNELS),
    Field("direction", "category", "inbound or outbound.", choices=("inbound", "outbound")),
    Field("started_at", "datetime", "When the contact started (offered / received).", required=True),
    Field("answered_at", "datetime", "When an agent answered; empty if never answered."),
    Field("ended_at", "datetime", "When the contact ended."),
    Field("interaction_ref", "text", "Groups the legs of one call (transfers) or the parts of one thread."),
    Field("leg", "integer", "Leg number within the interaction (1 = first)."),
    Field("queue", "category", "Queue, skill or inbox."),
    Field("team", "category", "Team that handled the contact."),
    Field("agent", "category", "Agent (staff) id."),
    Field("wait_s", "duration", "Queue wait before answer, seconds."),
    Field("talk_s", "duration", "Talk / handling time, seconds."),
    Field("hold_s", "duration", "Time the agent put the customer on hold, seconds."),
    Field("wrap_s", "duration", "After-contact work, seconds."),
    Field("transfers", "integer", "Number of transfers in this leg."),
    Field("abandoned", "boolean", "Offered but abandoned before answer."),
    Field("resolved", "boolean", "Agent-flagged resolved at this contact."),
    Field("outcome", "category", "Outcome or disposition as the source records it."),
    Field("coded_reason", "category", "Reason / wrap code from the source system."),
    Field("ivr_path", "category", "IVR menu choices, e.g. '1>3>2'."),
    Field("text", "text", "What the customer said or wrote (redacted).", free_text=True),
    Field("agent_text", "text", "What the organisation said or wrote (redacted).", free_text=True),
    Field("message_count", "integer", "Messages in a chat or email thread."),
    Field("customer_message_count", "integer", "Messages written by the customer."),
    Field("case_ref", "ref", "Source key of a linked case."),
    Field("customer_ref", "ref", "The source's own customer or account number (hashed)."),
    Field("property_ref", "ref", "Property (UPRN where present), hashed."),
    Field("tenancy_ref", "ref", "Tenancy or household reference, hashed."),
    Field("segment", "category", "Customer segment, where the source has one."),
    Field("vulnerable", "boolean", "Vulnerability flag, where the source has one."),
)

CASE = (
    Field("case_type", "category", "case, repair, service_request or work_order.", required=True),
    Field("category", "category", "Category / reason code of the case."),
    Field("status", "category", "Status as the source records it."),
    Field("business_area", "category", "Business area that owns the case."),
    Field("priority", "category", "Priority (e.g. emergency, routine)."),
    Field("created_at", "datetime", "When the case was raised.", required=True),
    Field("promised_at", "datetime", "Date promised to the customer."),
    Field("resolved_at", "datetime", "When the case was resolved or completed."),
    Field("reopened", "boolean", "Reopened after resolution."),
    Field("visits", "integer", "Visits or appointments needed (repairs)."),
    Field("first_time_fix", "boolean", "Completed at the first visit (repairs right first time)."),
    Field("outcome", "category", "Outcome as the source records it."),
    Field("text", "text", "Case description (redacted).", free_text=True),
    Field("customer_ref", "ref", "The source's own customer or account number (hashed)."),
    Field("property_ref", "ref", "Property (UPRN where present), hashed."),
    Field("tenancy_ref", "ref", "Tenancy or household reference, hashed."),
)

COMPLAINT = (
    Field("stage", "integer", "Complaint stage (1 or 2).", required=True),
    Field("received_at", "datetime", "When the complaint was received.", required=True),
    Field("acknowledged_at", "datetime", "When it was acknowledged."),
    Field("responded_at", "datetime", "When the stage response was sent."),
    Field("upheld", "boolean", "Upheld (fully or partly)."),
    Field("category", "category", "Complaint category."),
    Field("business_area", "category", "Business area complained about."),
    Field("case_ref", "ref", "Linked case."),
    Field("contact_ref", "ref", "Linked contact."),
    Field("text", "text", "The complaint in the customer's words (redacted).", free_text=True),
    Field("customer_ref", "ref", "The source's own customer or account number (hashed)."),
    Field("property_ref", "ref", "Property (UPRN where present), hashed."),
    Field("tenancy_ref", "ref", "Tenancy or household reference, hashed."),
)

SURVEY = (
    Field("instrument", "category", "Survey programme (e.g. post-contact, TSM, relationship).", required=True),
    Field("responded_at", "datetime", "When the response was given.", required=True),
    Field("contact_ref", "ref", "Contact the survey followed."),
    Field("case_ref", "ref", "Case the survey followed."),
    Field("channel", "category", "Channel of the contact surveyed.", choices=CHANNELS),
    Field("verbatim", "text", "Free-text comment (redacted).", free_text=True),
    Field("customer_ref", "ref", "The source's own customer or account number (hashed)."),
    Field("property_ref", "ref", "Property (UPRN where present), hashed."),
    Field("tenancy_ref", "ref", "Tenancy or household reference, hashed."),
)

PROPERTY = (
    Field("property_type", "category", "House, flat, bungalow..."),
    Field("area", "category", "Patch, ward or area."),
    Field("homes", "integer", "Homes at this property record (default 1)."),
    Field("tenure", "category", "Tenure (general needs, supported, leasehold...)."),
)

ENTITIES: dict[str, tuple[Field, ...]] = {
    "contact": CONTACT,
    "case": CASE,
    "complaint": COMPLAINT,
    "survey": SURVEY,
    "property": PROPERTY,
}

#: Per-item survey scores live in their own table (one row per response x item).
SURVEY_ITEMS = ("csat", "nps", "ces")  # plus any free item code, e.g. TSM "TP01"

#: Identifiers used only for linkage; they live in the identity store, never in analytics.
IDENTITY_FIELDS: dict[str, str] = {
    "customer_id": "The source system's own customer / account / tenancy number.",
    "name": "Full name as one string.",
    "first_name": "Given name.",
    "last_name": "Family name.",
    "email": "Email address.",
    "phone": "Phone number in any format.",
    "postcode": "UK postcode.",
    "address": "Address line(s).",
    "uprn": "Unique Property Reference Number.",
    "dob": "Date of birth.",
}

#: Columns every analytical record carries (provenance).
SYSTEM_COLUMNS = (
    ("record_id", "VARCHAR", "Stable id: source + ':' + source_key."),
    ("source", "VARCHAR", "Source name from cxchain.toml."),
    ("source_key", "VARCHAR", "The record's key in its source system."),
    ("version", "INTEGER", "1 for the first version; +1 for each changed re-export."),
    ("content_hash", "VARCHAR", "Hash of the mapped raw values."),
    ("batch_id", "VARCHAR", "Ingest batch that loaded this version."),
    ("location", "VARCHAR", "file:line (CSV), file#/pointer (JSON) or file:sheet!row (Excel)."),
    ("valid_from", "TIMESTAMP", "When this version was loaded."),
    ("valid_to", "TIMESTAMP", "When a newer version replaced it; empty while current."),
)


def fields_of(entity: str) -> dict[str, Field]:
    """The canonical fields of ``entity`` by name; raises KeyError for an unknown entity."""
    return {f.name: f for f in ENTITIES[entity]}
