"""The client list's search, filters and sorting, read from the query string."""

from dataclasses import dataclass

from sqlalchemy import Select, select

from portal.models import Client, ClientStatus, ClientType
from portal.services import search
from portal.web.querystring import enum_member, id_value

SORTS = {
    "name": (Client.name,),
    "code": (Client.code,),
    "created": (Client.created_at,),
    "modified": (Client.modified_at,),
}


@dataclass(frozen=True)
class ClientFilters:
    query: str = ""
    status: ClientStatus | None = None
    type: ClientType | None = None
    branch_id: int | None = None
    sort: str = "name"
    descending: bool = False

    @classmethod
    def from_request(cls, args) -> "ClientFilters":
        """Unknown or malformed values are ignored, never an error."""
        return cls(
            query=args.get("q", "").strip()[:100],
            status=enum_member(ClientStatus, args.get("status")),
            type=enum_member(ClientType, args.get("type")),
            branch_id=id_value(args.get("branch")),
            sort=args.get("sort") if args.get("sort") in SORTS else "name",
            descending=args.get("dir") == "desc",
        )

    def statement(self) -> Select:
        statement = select(Client)
        matches = search.matching_ids(self.query)
        if matches is not None:
            statement = statement.join(matches, matches.c.client_id == Client.id)
        if self.status is not None:
            statement = statement.where(Client.status == self.status)
        if self.type is not None:
            statement = statement.where(Client.type == self.type)
        if self.branch_id is not None:
            statement = statement.where(Client.branch_id == self.branch_id)
        columns = (*SORTS[self.sort], Client.id)
        return statement.order_by(*(c.desc() if self.descending else c for c in columns))

    def args(self, **overrides) -> dict:
        """The query string of these filters, for links (sorting, paging)."""
        values = {
            "q": self.query or None,
            "status": self.status.value if self.status else None,
            "type": self.type.value if self.type else None,
            "branch": self.branch_id,
            "sort": self.sort if self.sort != "name" else None,
            "dir": "desc" if self.descending else None,
        }
        values.update(overrides)
        return {key: value for key, value in values.items() if value is not None}

    def sort_args(self, key: str) -> dict:
        """The query string that sorts by ``key``; a second click reverses the order."""
        reverse = self.sort == key and not self.descending
        return self.args(sort=key if key != "name" else None, dir="desc" if reverse else None)

    def aria_sort(self, key: str) -> str | None:
        if self.sort != key:
            return None
        return "descending" if self.descending else "ascending"
