"""Accent- and case-insensitive search words, kept in an index table.

Each client is stored as the set of its normalised words (name, code, email,
phone digits). A query word matches a stored word that starts with it, found
by a range scan on the index, so search time does not grow with the tenant.
"""

import re
import unicodedata

from sqlalchemy import Subquery, delete, intersect, select

from portal.extensions import db
from portal.models import Client, ClientSearchTerm

#: Longest stored word (the column's size); longer words are cut, still matching by prefix.
MAX_TERM = 60
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]*\d[\d\s().-]*\d[\d\s().-]*\d[\d\s().-]*$")


def normalise(text: str | None) -> list[str]:
    """The words of ``text``: lowercase, without accents, letters and digits only."""
    if not text:
        return []
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [word[:MAX_TERM] for word in _NOT_ALNUM.split(plain) if word]


def email_terms(email: str | None) -> set[str]:
    if not email:
        return set()
    local, _, domain = email.partition("@")
    terms = set(normalise(local)) | set(normalise(domain)[:-1])  # not "com", "fr"
    terms.add("".join(normalise(local))[:MAX_TERM])
    return terms


def phone_terms(*numbers: str | None) -> set[str]:
    terms = set()
    for number in numbers:
        digits = re.sub(r"\D", "", number or "")
        if digits:
            terms.add(digits[:MAX_TERM])
            if len(digits) > 10:  # also without the country code: 5145550123
                terms.add(digits[-10:])
    return terms


def client_terms(client: Client) -> set[str]:
    """Every word a search should find ``client`` by, its contacts' addresses and
    numbers included (a technician often has only the caller's email or phone)."""
    terms = set(normalise(client.name)) | set(normalise(client.code))
    if client.code:
        terms.add("".join(normalise(client.code))[:MAX_TERM])
    terms |= email_terms(client.email) | phone_terms(client.phone, client.mobile, client.fax)
    for contact in client.contacts:
        if contact.archived_at is None:
            terms |= email_terms(contact.email) | phone_terms(contact.phone, contact.mobile)
    terms.discard("")
    return terms


def reindex(client: Client) -> None:
    """Replace ``client``'s words in the index (the caller commits with the change)."""
    db.session.flush()
    db.session.expire(client, ["contacts"])  # a contact just added or archived counts
    db.session.execute(delete(ClientSearchTerm).where(ClientSearchTerm.client_id == client.id))
    db.session.add_all(
        ClientSearchTerm(client_id=client.id, tenant_id=client.tenant_id, term=term)
        for term in sorted(client_terms(client))
    )


def _next_prefix(word: str) -> str:
    """The smallest string greater than every string starting with ``word``."""
    return word[:-1] + chr(ord(word[-1]) + 1)


def query_words(query: str) -> list[str]:
    """The words to look up; a query that looks like a phone number is one word of digits."""
    if _PHONE_LIKE.match(query):
        return [re.sub(r"\D", "", query)[:MAX_TERM]]
    return normalise(query)[:5]


def matching_ids(query: str) -> Subquery | None:
    """The ids of the clients matching ``query``: every query word starts one of their
    words. Joined to, not tested with IN, so the planner starts from the few matches."""
    words = query_words(query)
    if not words:
        return None
    per_word = [
        select(ClientSearchTerm.client_id).where(
            ClientSearchTerm.term >= word, ClientSearchTerm.term < _next_prefix(word)
        )
        for word in words
    ]
    matches = intersect(*per_word) if len(per_word) > 1 else per_word[0].distinct()
    return matches.subquery("matches")
