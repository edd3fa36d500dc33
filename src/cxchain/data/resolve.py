"""Resolve a workspace's records to customers: identity store in, pseudonymous customer keys out.

Reads the current version of every identity record, normalises it (:mod:`.identity`), links it
(:mod:`.linkage`, Splink) keeping earlier keys stable, and writes the mapping to both stores:
``customer_map`` in the identity store, ``record_customer`` (record id, source, customer key) in
the analytical store.  Records with no identifying value at all (an anonymous IVR call) get no
customer: they are unknown, not a customer of their own.

The workspace keeps its linkage model in ``linkage_model.json``: trained on the first run, then
reused so that results are reproducible and keys stay stable; delete the file to retrain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .identity import nickname_sql, normalise_identities
from .linkage import link_identities

#: At most this many name-only customers of one name, with no named customer of it, are taken for one person:
#: more is a common name, not one busy customer.
MAX_NAME_ONLY = 3

_IDENTIFYING = ("customer_id", "email", "phone", "postcode", "address", "uprn", "dob", "last_name")


def link_workspace_identities(ident: duckdb.DuckDBPyConnection, data: duckdb.DuckDBPyConnection, *, secret: str,
                              model_path: Path, threshold: float = 0.9, seed: int = 0,
                              id_schemes: dict[str, str] | None = None, household_sources: set[str] | None = None,
                              exclude_sources: set[str] | None = None, engine: Any = None) -> dict[str, Any]:
    """Link every identity record and publish the record -> customer mapping; returns statistics.

    With a Spark ``engine``, the candidate pairs are scored there with the saved model (Splink's Spark backend).
    """
    ident.execute("""CREATE OR REPLACE TEMP TABLE ids_latest AS
                     SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY record_id ORDER BY version DESC) rn
                                                 FROM identity_record) WHERE rn = 1""")
    normalise_identities(ident, "ids_latest", "ids_norm_all")
    for src, scheme in (id_schemes or {}).items():
        # Sources sharing an id scheme compare customer ids across systems (see docs/mapping.md).
        ident.execute("UPDATE ids_norm_all SET customer_id = ? || substr(customer_id, length(source) + 1) WHERE source = ?",
                      [f"scheme={scheme}", src])
    # A household-level id (a tenancy ref shared by everyone in the home) must not merge people:
    # it is set aside as household_id and used afterwards to tie person-less records to the household.
    ident.execute("ALTER TABLE ids_norm_all ADD COLUMN household_id VARCHAR")
    for src in household_sources or ():
        ident.execute("UPDATE ids_norm_all SET household_id = customer_id, customer_id = NULL WHERE source = ?", [src])
    for src in exclude_sources or ():
        ident.execute("DELETE FROM ids_norm_all WHERE source = ?", [src])
    any_id = " OR ".join(f"{c} IS NOT NULL" for c in (*_IDENTIFYING, "household_id"))
    ident.execute(f"CREATE OR REPLACE TEMP TABLE ids_norm AS SELECT * FROM ids_norm_all WHERE {any_id}")
    ident.execute("CREATE OR REPLACE TEMP TABLE ids_link AS SELECT * EXCLUDE (household_id) FROM ids_norm")
    n = ident.execute("SELECT count(*) FROM ids_norm").fetchall()[0][0]
    stats: dict[str, Any] = {"identity_records": ident.execute("SELECT count(*) FROM ids_latest").fetchall()[0][0],
                             "records": n}
    if n == 0:
        ident.execute("DELETE FROM customer_map")
        data.execute("DELETE FROM record_customer")
        stats.update(customers=0)
        return stats
    has_prev = ident.execute("SELECT count(*) FROM customer_map").fetchall()[0][0] > 0
    if has_prev:
        ident.execute("CREATE OR REPLACE TEMP TABLE prev_map AS SELECT * FROM customer_map")
    use_model = model_path if model_path.exists() else None
    result = link_identities(ident, "ids_link", model_path=use_model, threshold=threshold, seed=seed,
                             previous="prev_map" if has_prev else None, output="customer_keys_new",
                             engine=engine)
    if use_model is None:
        result.save_model(model_path)
    stats["merged_by_unique_name"] = _merge_by_unique_name(ident, "customer_keys_new")
    stats["attached"] = _attach_unique_contact_points(ident, "customer_keys_new")
    stats["attached_to_household"] = _attach_to_household(ident, "customer_keys_new")
    ident.execute("DELETE FROM customer_map")
    ident.execute("INSERT INTO customer_map SELECT record_id, customer_key FROM customer_keys_new")
    mapping = ident.sql("""SELECT k.record_id, n.source, k.customer_key FROM customer_keys_new k
                           JOIN ids_norm n USING (record_id)""").to_arrow_table()
    data.execute("DELETE FROM record_customer")
    data.register("_map", mapping)
    data.execute("INSERT INTO record_customer SELECT record_id, source, customer_key FROM _map")
    data.unregister("_map")
    stats.update({k: v for k, v in result.stats.items() if isinstance(v, (int, float, str))})
    stats["model"] = result.stats.get("model_source")
    stats["customers"] = data.execute("SELECT count(DISTINCT customer_key) FROM record_customer").fetchall()[0][0]
    for t in ("ids_norm_all", "customer_keys_new"):
        ident.execute(f"DROP TABLE IF EXISTS {t}")
    data.execute("DELETE FROM link_stats")
    data.executemany("INSERT INTO link_stats VALUES (?, ?)", [(k, float(v)) for k, v in stats.items() if isinstance(v, (int, float))])
    return stats


def _merge_by_unique_name(ident: duckdb.DuckDBPyConnection, keys: str) -> int:
    """Merge customers whose only shared evidence is a full name that no other customer holds.

    A chat or an email signed "Jane Doe" with an address seen nowhere else carries only the name: the
    probabilistic model rightly does not match on a name alone, because names collide.  The data set as a
    whole says whether this one does.  Per full name (nicknames folded), the customers holding it are
    *strong* (they carry a customer id, phone, postcode, address, UPRN, date of birth or household) or
    *weak* (a name, perhaps an email):

    - exactly two strong customers whose details cannot be compared (a call centre's record holds a
      mobile, the CRM's a postcode and date of birth) are one: nothing but the name can be compared, and
      only they hold it.  Any detail both hold that disagrees (email, date of birth, postcode, property,
      household, a mobile against a mobile or a landline against a landline; not a landline, which a
      household shares, against a mobile) keeps them apart;
    - then, exactly one strong customer: every weak one joins it, unless both hold an email (different
      emails are two people; the same email was merged already);
    - no strong customer: the weak ones are one person when they are at most ``MAX_NAME_ONLY`` and hold at
      most one email between them (three chats signed "Jane Doe", one with an email);
    - otherwise the name is shared and nothing merges.

    A name-only customer whose name points at different targets stays apart.  Returns the number of records whose
    customer changed.
    """
    strong = " OR ".join(f"n.{c} IS NOT NULL" for c in ("customer_id", "phone", "postcode", "address", "uprn", "dob",
                                                        "household_id"))

    def names_table() -> None:
        ident.execute(f"""
            CREATE OR REPLACE TEMP TABLE _cx_names AS
            SELECT k.customer_key, {nickname_sql("n.first_name")} AS first, n.last_name AS last, n.email, n.dob, n.postcode,
                   CASE WHEN NOT regexp_matches(n.phone, '^0[12]') THEN n.phone END AS mobile,
                   CASE WHEN regexp_matches(n.phone, '^0[12]') THEN n.phone END AS landline, n.uprn, n.household_id,
                   ({strong}) AS strong
            FROM ids_norm n JOIN {keys} k USING (record_id)""")

    names_table()
    # two strong customers of a name, nothing comparable between them disagreeing
    disagree = " OR ".join(f"(coalesce(len(a.{f}), 0) > 0 AND coalesce(len(b.{f}), 0) > 0 AND NOT list_has_any(a.{f}, b.{f}))"
                           for f in ("emails", "dobs", "postcodes", "mobiles", "landlines", "uprns", "households"))
    moved = _apply_merges(ident, keys, ident.execute(f"""
        WITH s AS (SELECT customer_key, bool_or(strong) AS strong FROM _cx_names GROUP BY 1),
        names AS (SELECT DISTINCT first, last, customer_key FROM _cx_names WHERE length(first) > 1 AND last IS NOT NULL),
        two AS (SELECT min(n.customer_key) AS a, max(n.customer_key) AS b FROM names n JOIN s USING (customer_key)
                GROUP BY n.first, n.last HAVING count(*) FILTER (WHERE s.strong) = 2 AND count(*) FILTER (WHERE NOT s.strong) = 0),
        -- the details of the few customers in such pairs only
        c AS (SELECT customer_key, list(DISTINCT email) FILTER (WHERE email IS NOT NULL) AS emails,
                     list(DISTINCT dob) FILTER (WHERE dob IS NOT NULL) AS dobs,
                     list(DISTINCT postcode) FILTER (WHERE postcode IS NOT NULL) AS postcodes,
                     list(DISTINCT mobile) FILTER (WHERE mobile IS NOT NULL) AS mobiles,
                     list(DISTINCT landline) FILTER (WHERE landline IS NOT NULL) AS landlines,
                     list(DISTINCT uprn) FILTER (WHERE uprn IS NOT NULL) AS uprns,
                     list(DISTINCT household_id) FILTER (WHERE household_id IS NOT NULL) AS households
              FROM _cx_names WHERE customer_key IN (SELECT a FROM two UNION ALL SELECT b FROM two) GROUP BY 1),
        ok AS (SELECT two.a, two.b FROM two JOIN c a ON a.customer_key = two.a JOIN c b ON b.customer_key = two.b
               WHERE NOT ({disagree})),
        -- a customer paired with different partners (it holds two names) is left out of the pairs
        lone AS (SELECT w, any_value(partner) AS partner FROM (SELECT a AS w, b AS partner FROM ok UNION ALL SELECT b, a FROM ok)
                 GROUP BY w HAVING count(DISTINCT partner) = 1)
        SELECT w, partner FROM lone ORDER BY w""").fetchall())
    if moved:
        names_table()
    moved += _apply_merges(ident, keys, ident.execute(f"""
        WITH c AS (SELECT customer_key, bool_or(strong) AS strong, count(DISTINCT email) AS emails
                   FROM _cx_names GROUP BY 1),
        names AS (SELECT DISTINCT n.first, n.last, n.customer_key, c.strong, c.emails
                  FROM _cx_names n JOIN c USING (customer_key) WHERE length(n.first) > 1 AND n.last IS NOT NULL),
        per_name AS (SELECT first, last, count(*) FILTER (WHERE strong) AS n_strong,
                            max(customer_key) FILTER (WHERE strong) AS strong_key,
                            count(*) FILTER (WHERE NOT strong AND emails > 0) AS weak_with_email,
                            min(customer_key) FILTER (WHERE NOT strong AND emails > 0) AS weak_email_key,
                            min(customer_key) FILTER (WHERE NOT strong) AS first_weak,
                            count(*) FILTER (WHERE NOT strong) AS n_weak
                     FROM names GROUP BY 1, 2),
        target AS (
            -- one strong customer of the name: the weak ones join it (not when both hold an email)
            SELECT w.customer_key AS w, p.strong_key AS partner
            FROM names w JOIN per_name p USING (first, last) JOIN c s ON s.customer_key = p.strong_key
            WHERE NOT w.strong AND p.n_strong = 1 AND NOT (w.emails > 0 AND s.emails > 0)
            UNION ALL
            -- no strong customer: the weak ones are one, around the one holding an email if there is one
            SELECT w.customer_key, coalesce(p.weak_email_key, p.first_weak)
            FROM names w JOIN per_name p USING (first, last)
            WHERE NOT w.strong AND p.n_strong = 0 AND p.n_weak <= {MAX_NAME_ONLY} AND p.weak_with_email <= 1 AND w.emails <= 1),
        lone AS (SELECT w, any_value(partner) AS partner FROM target WHERE w <> partner GROUP BY w
                 HAVING count(DISTINCT partner) = 1)
        SELECT w, partner FROM lone ORDER BY w""").fetchall())
    ident.execute("DROP TABLE _cx_names")
    return moved


def _apply_merges(ident: duckdb.DuckDBPyConnection, keys: str, pairs: list[tuple[str, str]]) -> int:
    """Give each customer of ``pairs`` (customer, partner) the smallest key of its connected group; returns
    the number of records whose customer changed."""
    if not pairs:
        return 0
    parent: dict[str, str] = {}

    def root(k: str) -> str:
        while parent.get(k, k) != k:
            k = parent[k]
        return k

    for w, partner in pairs:
        a, b = root(w), root(partner)
        if a != b:
            parent[max(a, b)] = min(a, b)
    old = list(parent)
    ident.register("_cx_moves", pa.table({"old_key": pa.array(old, pa.string()), "new_key": pa.array([root(k) for k in old], pa.string())}))
    try:
        res = ident.execute(f"""UPDATE {keys} SET customer_key = m.new_key FROM _cx_moves m
                                WHERE {keys}.customer_key = m.old_key""").fetchall()
    finally:
        ident.unregister("_cx_moves")
    return int(res[0][0]) if res else 0


def _attach_unique_contact_points(ident: duckdb.DuckDBPyConnection, keys: str) -> int:
    """Attach records known only by a phone number or email to the one customer that uses it.

    A caller line identity alone is weak evidence (households share landlines), so the
    probabilistic model rightly leaves such records apart.  But when exactly one customer with a
    name on file uses that phone (or email), the record is theirs.  Ambiguous numbers stay apart.
    """
    n = 0
    for point in ("phone", "email"):
        others = " AND ".join(f"n.{c} IS NULL" for c in _IDENTIFYING if c != point)
        res = ident.execute(f"""
            WITH lone AS (SELECT n.record_id, n.{point} AS v FROM ids_norm n WHERE n.{point} IS NOT NULL AND n.first_name IS NULL
                          AND {others}),
            owners AS (SELECT n.{point} AS v, count(DISTINCT k.customer_key) AS owners, any_value(k.customer_key) AS key
                       FROM ids_norm n JOIN {keys} k USING (record_id)
                       WHERE n.{point} IS NOT NULL AND (n.last_name IS NOT NULL OR n.customer_id IS NOT NULL)
                       GROUP BY 1)
            UPDATE {keys} SET customer_key = owners.key FROM lone JOIN owners USING (v)
            WHERE {keys}.record_id = lone.record_id AND owners.owners = 1 AND {keys}.customer_key <> owners.key""").fetchall()
        n += int(res[0][0]) if res else 0
        # The rest share a number nobody named holds: one unknown caller across silos, as the
        # collapse to distinct identities already treats them within one silo.
        res = ident.execute(f"""
            WITH lone AS (SELECT n.record_id, n.{point} AS v FROM ids_norm n WHERE n.{point} IS NOT NULL AND n.first_name IS NULL
                          AND {others}),
            named AS (SELECT DISTINCT n.{point} AS v FROM ids_norm n
                      WHERE n.{point} IS NOT NULL AND (n.last_name IS NOT NULL OR n.customer_id IS NOT NULL)),
            caller AS (SELECT l.v, min(k.customer_key) AS key FROM lone l JOIN {keys} k USING (record_id)
                       WHERE l.v NOT IN (SELECT v FROM named) GROUP BY 1)
            UPDATE {keys} SET customer_key = caller.key FROM lone JOIN caller USING (v)
            WHERE {keys}.record_id = lone.record_id AND {keys}.customer_key <> caller.key""").fetchall()
        n += int(res[0][0]) if res else 0
    return n


def _attach_to_household(ident: duckdb.DuckDBPyConnection, keys: str) -> int:
    """Records known only by a household id (a repair on a tenancy) go to that household's lead customer:
    the resolved person with most records carrying the same household id; records of a household no
    named person is known for stay together as one household customer."""
    res = ident.execute(f"""
        WITH lone AS (SELECT n.record_id, n.household_id FROM ids_norm n WHERE n.household_id IS NOT NULL
                      AND n.first_name IS NULL AND n.last_name IS NULL AND n.email IS NULL AND n.phone IS NULL),
        people AS (SELECT n.household_id, k.customer_key, count(*) AS n FROM ids_norm n JOIN {keys} k USING (record_id)
                   WHERE n.household_id IS NOT NULL AND (n.last_name IS NOT NULL OR n.email IS NOT NULL)
                   GROUP BY 1, 2),
        lead AS (SELECT household_id, arg_max(customer_key, n * 1000000 - hash(customer_key) % 1000000) AS key FROM people GROUP BY 1),
        orphan AS (SELECT l.household_id, min(k.customer_key) AS key FROM lone l JOIN {keys} k USING (record_id)
                   WHERE l.household_id NOT IN (SELECT household_id FROM lead) GROUP BY 1),
        target AS (SELECT household_id, key FROM lead UNION ALL SELECT household_id, key FROM orphan)
        UPDATE {keys} SET customer_key = target.key FROM lone JOIN target USING (household_id)
        WHERE {keys}.record_id = lone.record_id AND {keys}.customer_key <> target.key""").fetchall()
    return int(res[0][0]) if res else 0
