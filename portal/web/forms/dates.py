"""The statement's date range, read from the query string."""

from datetime import date

from wtforms import DateField
from wtforms.validators import Optional, ValidationError

from portal.i18n import lazy_gettext as _l
from portal.web.forms import PortalForm

#: Dates outside this range are typos, and would overflow time-zone arithmetic.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
AS_ISO = _l("Give a date as YYYY-MM-DD.")


def plausible(form, field) -> None:
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(
            _l(
                "Give a date between %(first)s and %(last)s.",
                first=EARLIEST.isoformat(),
                last=LATEST.isoformat(),
            )
        )


class DateRangeForm(PortalForm):
    """A GET form: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    start = DateField(
        _l("From"),
        validators=[Optional(), plausible],
        invalid_value_message=AS_ISO,
        description=_l("Entries on or after this day."),
    )
    end = DateField(
        _l("To"),
        validators=[Optional(), plausible],
        invalid_value_message=AS_ISO,
        description=_l("Entries on or before this day."),
    )

    def validate_end(self, field) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the range comes before its start."))
