"""The access list's filters, read from the query string."""

from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.models import User, UserKind, UserStatus
from portal.web.querystring import enum_member, id_value

MAX_QUERY = 100


@dataclass(frozen=True)
class UserFilters:
    query: str = ""
    kind: UserKind | None = None
    state: UserStatus | None = None
    role_id: int | None = None

    @classmethod
    def from_request(cls, args) -> "UserFilters":
        """Unknown or malformed values are ignored, never an error."""
        return cls(
            query=args.get("q", "").strip()[:MAX_QUERY],
            kind=enum_member(UserKind, args.get("kind")),
            state=enum_member(UserStatus, args.get("state")),
            role_id=id_value(args.get("role")),
        )

    def statement(self) -> Select:
        # The list says who has a second factor: their passkeys come in one more statement.
        statement = select(User).options(
            joinedload(User.role), joinedload(User.branch), selectinload(User.passkeys)
        )
        if self.query:
            pattern = f"%{escape_like(self.query)}%"
            statement = statement.where(
                or_(
                    *(
                        column.ilike(pattern, escape="\\")
                        for column in (User.name, User.code, User.email)
                    )
                )
            )
        if self.kind is not None:
            statement = statement.where(User.kind == self.kind)
        if self.state is not None:
            statement = statement.where(User.status == self.state)
        if self.role_id is not None:
            statement = statement.where(User.role_id == self.role_id)
        return statement.order_by(User.name, User.id)

    def args(self) -> dict:
        """The query string of these filters, for links (paging) and the action forms."""
        values = {
            "q": self.query or None,
            "kind": self.kind.value if self.kind else None,
            "state": self.state.value if self.state else None,
            "role": self.role_id,
        }
        return {key: value for key, value in values.items() if value is not None}


def escape_like(text: str) -> str:
    """``text`` matched literally by LIKE: its wildcards and the escape character escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
