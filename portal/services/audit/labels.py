"""Words shown for stored names: audit actions, changed fields and their values in the
Log tab, and permissions by their explanation."""

from datetime import date, datetime

from portal.i18n import format_date, format_datetime, gettext
from portal.i18n import lazy_gettext as _l
from portal.models import ClientMode, ClientStatus, ClientType, RequestState, UserStatus
from portal.permissions import CATALOGUE

ACTIONS = {
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Sign-in refused"),
    "auth.logout": _l("Signed out"),
    "auth.network_refused": _l("Refused: outside the allowed network"),
    "auth.session_ended": _l("A session ended by its user"),
    "auth.sessions_ended": _l("Every other session ended by its user"),
    "user.password_changed": _l("Password changed"),
    "user.email_change_requested": _l("New email address asked for"),
    "user.email_changed": _l("Email address changed"),
    "user.disabled": _l("Access disabled"),
    "user.enabled": _l("Access enabled"),
    "client.created": _l("Client created"),
    "client.updated": _l("Client changed"),
    "client.archived": _l("Client archived"),
    "client.assigned": _l("Staff assigned"),
    "client.unassigned": _l("Staff unassigned"),
    "account.forged_fields": _l("Refused: fields the client may not change"),
    "contact.created": _l("Contact created"),
    "contact.updated": _l("Contact changed"),
    "contact.archived": _l("Contact archived"),
    "contact.restored": _l("Contact restored"),
    "access.granted": _l("Portal access granted"),
    "access.resent": _l("Access email sent again"),
    "access.accepted": _l("Password chosen, access active"),
    "access.link_renewed": _l("New access link asked for"),
    "access.limits_changed": _l("Access limits changed"),
    "auth.reset_requested": _l("New password asked for"),
    "credit.account_opened": _l("Credit account opened"),
    "credit.intervention": _l("Intervention recorded"),
    "credit.purchase": _l("Time credit purchased"),
    "credit.adjustment": _l("Time credit corrected"),
    "credit.npi_set": _l("Flagged “do not intervene”"),
    "credit.npi_cleared": _l("“Do not intervene” cleared"),
    "credit.alert_threshold": _l("Credit alert threshold changed"),
    "request.opened": _l("Support request opened"),
    "request.replied": _l("Support request answered"),
    "request.noted": _l("Internal note written"),
    "request.state_changed": _l("Support request moved on"),
    "request.assigned": _l("Support request assigned"),
    "credit.client_linked": _l("Linked to a credit account"),
    "credit.client_unlinked": _l("Unlinked from a credit account"),
    "mailing.unsubscribed": _l("Unsubscribed from the recap mails and credit alerts"),
    "mailing.resubscribed": _l("Subscribed again to the recap mails and credit alerts"),
    "proposal.created": _l("Contact change proposed"),
    "proposal.accepted": _l("Proposal accepted"),
    "proposal.rejected": _l("Proposal rejected"),
    "tenant.settings_changed": _l("Settings changed"),
    "tenant.hours_changed": _l("Opening hours changed"),
    "branch.created": _l("Branch created"),
    "branch.renamed": _l("Branch renamed"),
    "branch.deactivated": _l("Branch deactivated"),
    "branch.activated": _l("Branch reactivated"),
    "branch.deleted": _l("Branch deleted"),
    "user.invited": _l("Staff member invited"),
    "user.updated": _l("Staff member changed"),
    "role.created": _l("Role created"),
    "role.updated": _l("Role changed"),
    "role.deleted": _l("Role deleted"),
    "chat.channel_created": _l("Chat channel created"),
    "chat.channel_changed": _l("Chat channel changed"),
    "chat.channel_archived": _l("Chat channel archived"),
    "chat.channel_reopened": _l("Chat channel reopened"),
    "chat.channel_left": _l("Chat channel left"),
    "auth.totp_enabled": _l("Two-factor sign-in turned on"),
    "auth.totp_disabled": _l("Two-factor sign-in turned off"),
    "auth.recovery_codes_renewed": _l("New recovery codes made"),
    "auth.recovery_code_used": _l("Recovery code used to sign in"),
    "auth.totp_reset": _l("Two-factor sign-in reset by an administrator"),
    "auth.passkey_added": _l("Passkey added"),
    "auth.passkey_renamed": _l("Passkey renamed"),
    "auth.passkey_removed": _l("Passkey removed"),
    "auth.reauth_failed": _l("Wrong password given again before a sensitive change"),
    "role.two_factor_changed": _l("Two-factor requirement of a role changed"),
    "data.export_requested": _l("Data export asked for"),
    "data.export_built": _l("Data export prepared"),
    "data.export_downloaded": _l("Data export downloaded"),
    "contact.erased": _l("Contact erased (right to erasure)"),
}

FIELDS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "mode": _l("Mode"),
    "status": _l("Status"),
    "type": _l("Type"),
    "language": _l("Language"),
    "currency": _l("Currency"),
    "billing_address": _l("Address"),
    "billing_address2": _l("Address 2"),
    "billing_city": _l("City"),
    "billing_province": _l("Province or state"),
    "billing_country": _l("Country"),
    "billing_postal_code": _l("Postal code"),
    "shipping_same_as_billing": _l("Ship to the billing address"),
    "shipping_address": _l("Shipping address"),
    "shipping_address2": _l("Shipping address 2"),
    "shipping_city": _l("Shipping city"),
    "shipping_province": _l("Shipping province or state"),
    "shipping_country": _l("Shipping country"),
    "shipping_postal_code": _l("Shipping postal code"),
    "phone": _l("Phone"),
    "mobile": _l("Mobile"),
    "fax": _l("Fax"),
    "email": _l("Email"),
    "website": _l("Website"),
    "bill_to": _l("Bill to"),
    "reference": _l("Client's own reference number"),
    "business_number": _l("Business number (N.E.Q.)"),
    "branch": _l("Home branch"),
    "title": _l("Title"),
    "department": _l("Department"),
    "location": _l("Location"),
    "archived_at": _l("Archived"),
    "assigned staff": _l("Assigned staff"),
    "user code": _l("User code"),
    "allowed network": _l("Allowed network"),
    "allowed_network": _l("Allowed network"),
    "departed": _l("Left the company"),
    "balance": _l("Balance (min)"),
    "valid_until": _l("Valid until"),
    "npi": _l("Do not intervene"),
    "recap_mails": _l("Receives the recap mails"),
    "support_sender_name": _l("Support sender name"),
    "support_sender_email": _l("Support sender address"),
    "support_phone": _l("Support phone"),
    "review_url": _l("Review page"),
    "credit_threshold_minutes": _l("Debt allowed before refusal (min)"),
    "credit_alert_minutes": _l("Low-credit alert below (min)"),
    "alert_threshold": _l("Low-credit alert below (min)"),
    "opening_hours": _l("Opening hours"),
    "state": _l("State"),
    "assignee": _l("In charge"),
    "day_rate": _l("Day rate of specific development"),
    "delay_flash": _l("Expected delay of a flash malfunction"),
    "delay_high": _l("Expected delay of a high-priority malfunction"),
    "delay_normal": _l("Expected delay of a normal-priority malfunction"),
    "delay_low": _l("Expected delay of a low-priority malfunction"),
    "holidays": _l("Holidays"),
    "invitation_days": _l("Invitation lifetime (days)"),
    "audit_address_days": _l("Keep the audit log's network addresses (days)"),
    "default_locale": _l("Default language"),
    "accent_color": _l("Accent colour"),
    "color": _l("Colour"),
    "two_factor_required": _l("Two-factor sign-in required"),
    "members_added": _l("Members added"),
    "members_removed": _l("Members removed"),
    "logo": _l("Logo"),
    "permissions": _l("Permissions"),
    "role": _l("Role"),
    "initials": _l("Initials"),
}


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)


def field_label(name: str) -> str:
    return FIELDS.get(name, name)


#: The details that name what an event was about, in the order they are shown.
SUBJECT_DETAILS = ("contact", "branch", "role", "account", "reason")


#: Why a sign-in was refused, as ``auth.login_failed`` stores it (with the login tried).
REFUSAL_REASONS = {
    "password": _l("Unknown user or wrong password"),
    "invited": _l("No password chosen yet"),
    "disabled": _l("Access disabled"),
    "code": _l("Wrong or reused two-factor code"),
    "passkey": _l("Passkey not accepted"),
}


def event_subject(details: dict) -> str:
    """What an audit event was about (a contact, a branch, a role ...), for the audit page;
    a refused sign-in by the login tried and its reason in words."""
    if "login" in details and details.get("reason") in REFUSAL_REASONS:
        return " · ".join(
            part
            for part in (str(details["login"] or ""), str(REFUSAL_REASONS[details["reason"]]))
            if part
        )
    return " · ".join(str(details[key]) for key in SUBJECT_DETAILS if details.get(key))


def permission_label(name: str) -> str:
    """A permission as people read it: its explanation, not its key."""
    return str(CATALOGUE[name]) if name in CATALOGUE else name


#: Fields whose stored values are the codes of these enumerations, tried in order.
ENUM_FIELDS = {
    "mode": (ClientMode,),
    "status": (ClientStatus, UserStatus),
    "type": (ClientType,),
    "state": (RequestState,),
}

#: Fields whose values are stored as ISO dates or date-times.
DATE_FIELDS = {"valid_until", "archived_at"}


def change_value(name: str, value) -> str | None:
    """A stored old or new value in words: Yes/No for a flag, a permission's explanation,
    an enumeration's label, a date as the page's language writes it. None stays None."""
    if value is None:
        return None
    text = str(value)
    if text.lower() in {"true", "false"}:
        return gettext("Yes") if text.lower() == "true" else gettext("No")
    if name == "permissions":
        return " ".join(permission_label(key.strip()) for key in text.split(","))
    for enumeration in ENUM_FIELDS.get(name, ()):
        try:
            return str(enumeration(text).label)
        except ValueError:
            continue
    if name in DATE_FIELDS:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        if len(text) <= len("2026-01-31"):
            return format_date(date(moment.year, moment.month, moment.day), "short")
        return format_datetime(moment, "short")
    return text
