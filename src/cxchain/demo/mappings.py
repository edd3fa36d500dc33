"""Mapping YAMLs (docs/mapping.md) for every silo the generator writes."""

from __future__ import annotations

from pathlib import Path

import yaml

YN = {"Y": True, "N": False}
ACD_FORMATS = ["%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


def mappings(sector: str) -> dict[str, dict]:
    m: dict[str, dict] = {
        "acd_calls": {
            "version": 1, "source": "acd_calls", "entity": "contact",
            "format": {"delimiter": ",", "encoding": "utf-8", "header_row": 1},
            "key": ["CallID"],
            "constants": {"channel": "phone", "direction": "inbound"},
            "fields": {
                "started_at": {"column": "Offered", "formats": ACD_FORMATS},
                "interaction_ref": "ConnID", "leg": "Leg", "queue": "Queue", "agent": "Agent",
                "wait_s": "WaitTime", "talk_s": "TalkTime", "hold_s": "HoldTime", "wrap_s": "WrapTime",
                "abandoned": {"column": "Abandoned", "values": YN},
                "transfers": {"column": "Transferred", "values": {"Y": 1, "N": 0}},
                "coded_reason": "WrapCode",
                "agent_text": "Notes",
            },
            "identity": {"phone": "CLI"},
        },
        "ivr": {
            "version": 1, "source": "ivr", "entity": "contact",
            "format": {"delimiter": ";", "encoding": "cp1252", "header_row": 1},
            "key": ["SessionID"],
            "constants": {"channel": "ivr", "direction": "inbound"},
            "fields": {
                "started_at": {"column": "StartTime", "formats": ["%Y-%m-%d %H:%M:%S"]},
                "ivr_path": "MenuPath", "coded_reason": "Option", "outcome": "ExitPoint",
                "interaction_ref": "ConnID",
            },
            "identity": {"phone": "CallerNumber", "name": "VerifiedName"},
        },
        "webchat": {
            "version": 1, "source": "webchat", "entity": "contact",
            "format": {"encoding": "utf-8", "records": "conversations"},
            "key": ["id"],
            "constants": {"channel": "chat", "direction": "inbound"},
            "fields": {"started_at": "started", "ended_at": "ended", "queue": "department"},
            "identity": {"name": "visitor.name", "email": "visitor.email"},
            "messages": {"path": "messages", "role": "from", "text": "body", "customer_roles": ["visitor"]},
        },
        # thread_id is not an interaction reference: a customer who replies in the thread days later to
        # chase is making a new contact (failure demand, a repeat), not continuing the first one.
        "email": {
            "version": 1, "source": "email", "entity": "contact",
            "format": {"encoding": "utf-8"},
            "key": ["message_id"],
            "constants": {"channel": "email", "direction": "inbound"},
            "fields": {"started_at": "received", "queue": "mailbox", "text": "body"},
            "identity": {"email": "from_address", "name": "from_name"},
        },
        "crm": {
            "version": 1, "source": "crm", "entity": "case",
            "format": {"sheets": "all", "header_row": 1},
            "key": ["Case Ref"],
            "fields": {
                "case_type": {"column": "Type", "values": {"Service Request": "service_request", "Enquiry": "case",
                                                           "Complaint": "case"}},
                "category": "Category", "status": "Status", "created_at": "Created", "promised_at": "Promised",
                "resolved_at": "Closed", "reopened": {"column": "Reopened", "values": YN},
                "text": "Description", "customer_ref": "Account No",
            },
            "identity": {"customer_id": "Account No", "name": "Customer Name", "postcode": "Postcode",
                         "email": "Email", "phone": "Phone"},
        },
        "complaints": {
            "version": 1, "source": "complaints", "entity": "complaint",
            "format": {"delimiter": ",", "encoding": "utf-8", "header_row": 1},
            "key": ["Complaint ID", "Stage"],
            "fields": {
                "stage": "Stage",
                "received_at": {"column": "Received", "formats": ["%d/%m/%Y"]},
                "acknowledged_at": {"column": "Acknowledged", "formats": ["%d/%m/%Y"]},
                "responded_at": {"column": "Responded", "formats": ["%d/%m/%Y"]},
                "upheld": {"column": "Upheld", "values": {"Yes": True, "No": False, "Partly": True}},
                "category": "Category", "business_area": "Service Area", "case_ref": "Linked Case",
                "text": "Summary",
            },
            "identity": {"name": "Complainant Name", "email": "Complainant Email", "phone": "Complainant Phone",
                         "postcode": "Postcode"},
        },
        "surveys": {
            "version": 1, "source": "surveys", "entity": "survey",
            "format": {"delimiter": ",", "encoding": "utf-8", "header_row": 1},
            "key": ["Response ID"],
            "constants": {"instrument": "post-contact"},
            "fields": {
                "responded_at": {"column": "Date", "formats": ["%d/%m/%Y %H:%M"]},
                "contact_ref": "Contact Ref",
                "channel": {"column": "Channel", "values": {"Phone": "phone", "Webchat": "chat", "Email": "email"}},
                "verbatim": "Comment",
            },
            "identity": {"email": "Email", "phone": "Phone"},
            "survey_items": {
                "csat": {"column": "Q1 Satisfaction", "scale": [1, 5]},
                "nps": {"column": "Q2 Recommend", "scale": [0, 10]},
                "ces": {"column": "Q3 Effort", "scale": [1, 7]},
            },
        },
    }
    if sector == "housing":
        m["repairs"] = {
            "version": 1, "source": "repairs", "entity": "case",
            "format": {"sheets": "all", "header_row": 1},
            "key": ["Job No"],
            "constants": {"case_type": "repair"},
            "fields": {
                "category": "Trade", "priority": "Priority", "created_at": "Raised", "promised_at": "Target Date",
                "resolved_at": "Completed", "visits": "Visits",
                "first_time_fix": {"column": "First Time Fix", "values": YN},
                "text": "Description", "tenancy_ref": "Tenancy Ref", "property_ref": "UPRN",
            },
            "identity": {"customer_id": "Tenancy Ref", "uprn": "UPRN"},
            "customer_id_scheme": "tenancy",
            "customer_id_level": "household",
        }
        m["crm"]["customer_id_scheme"] = "tenancy"  # housing CRM accounts are tenancy refs,
        m["crm"]["customer_id_level"] = "household"  # shared by everyone in the household
        m["properties"] = {
            "version": 1, "source": "properties", "entity": "property",
            "format": {"delimiter": ",", "encoding": "utf-8", "header_row": 1},
            "key": ["UPRN"],
            "constants": {"homes": 1},
            "fields": {"property_type": "Type", "area": "Patch", "tenure": "Tenure"},
            "identity": {"uprn": "UPRN", "address": "Address", "postcode": "Postcode"},
        }
    return m


def write(out: Path, sector: str) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for source, body in mappings(sector).items():
        path = out / f"{source}.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")
        names.append(f"mappings/{source}.yaml")
    return names
