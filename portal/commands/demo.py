"""The demo data of DESIGN.md: two tenants, the seed documents' clients and people."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Billing,
    Branch,
    ChatChannel,
    Client,
    ClientAssignment,
    ClientMode,
    Contact,
    CreditAccount,
    Invitation,
    InvitationState,
    Priority,
    RequestKind,
    RequestState,
    SystemRole,
    Tenant,
    User,
    UserKind,
)
from portal.models.user import UserStatus
from portal.services import brand, chat, credit, invitations, requests, search
from portal.services.actor import Actor
from portal.services.tenants import create_staff_user, create_tenant, role_named, system_role
from portal.tenancy import bound_to


@dataclass(frozen=True)
class StaffSpec:
    email: str
    name: str
    role: str
    initials: str | None = None
    #: The language they chose; None reads the tenant's.
    locale: str | None = None


@dataclass(frozen=True)
class ContactSpec:
    name: str
    title: str | None = None
    department: str | None = None
    type: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    fax: str | None = None
    #: A user code makes this contact an active client user.
    user_code: str | None = None
    #: The staff member (by email) who has invited this contact: its invitation is pending.
    invited_by: str | None = None
    #: The contact has opted in to the recap mails.
    recap_mails: bool = False
    #: The language the client user chose; None reads the company's.
    locale: str | None = None


@dataclass(frozen=True)
class ClientSpec:
    code: str
    name: str
    mode: ClientMode = ClientMode.COMPANY
    email: str | None = None
    phone: str | None = None
    branch: str | None = None
    language: str = "fr"
    currency: str = "CAD"
    address: tuple[str, str, str, str] | None = None  # street, city, postal code, country
    contacts: tuple[ContactSpec, ...] = ()
    #: Emails of the staff in charge of the client (the seed's VENDEURS tab).
    assigned: tuple[str, ...] = ()


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    name: str
    timezone: str
    country: str
    branches: tuple[str, ...]
    staff: tuple[StaffSpec, ...]
    clients: tuple[ClientSpec, ...]
    #: The tenant's default language.
    locale: str = "en"
    support_phone: str | None = None
    review_url: str | None = None
    #: Who the recap mails come from (the seed's support@gestan.fr), which customers reply to.
    support_sender_name: str | None = None
    support_sender_email: str | None = None
    #: The tenant's brand: its accent colour, and its logo's file in portal/data.
    accent_color: str | None = None
    logo: str | None = None


#: Where the demo's files lie (its logo).
DATA = Path(__file__).resolve().parent.parent / "data"

DEMO = (
    TenantSpec(
        slug="demo",
        name="M. Répare Tout",
        support_phone="+1 514-555-0100",
        review_url="https://reviews.example.com/m-repare-tout",
        support_sender_name="M. Répare Tout",
        support_sender_email="support@mreparetout.example",
        accent_color="#b4401d",
        logo="demo-logo.png",
        timezone="America/Toronto",
        country="CA",
        locale="fr_CA",
        branches=("Actif Montréal", "Québec"),
        staff=(
            StaffSpec("admin@demo.test", "Roger Point", "Administrator"),
            StaffSpec("tech@demo.test", "Hervé Rayon", "Technician", initials="HRY", locale="en"),
            StaffSpec(
                "sales@demo.test", "Marie-Astrid Vente", "Sales administration", initials="MAV"
            ),
            # The other technicians of seed 002's history.
            StaffSpec(
                "ecn@demo.test", "Étienne Neuville", "Technician", initials="ECN", locale="fr"
            ),
            StaffSpec("nvl@demo.test", "Nadia Vallée", "Technician", initials="NVL"),
            StaffSpec("cpl@demo.test", "Claude Poulin", "Technician", initials="CPL"),
        ),
        clients=(
            ClientSpec(
                code="8005551",
                name="Hervé David",
                mode=ClientMode.COMPANY,
                branch="Actif Montréal",
                contacts=(
                    ContactSpec(
                        "Mireille Couture",
                        title="Responsable stock",
                        department="Logistique",
                        type="Opérations",
                        email="mireille.couture@hervedavid.com",
                        phone="521 1224 6321",
                        mobile="524 1478 1263",
                        fax="521 1582 1132",
                        invited_by="admin@demo.test",
                    ),
                ),
            ),
            ClientSpec(
                code="4996",
                name="JM-ACTIONS",
                email="jszczygiel@jmactions.com",
                branch="Québec",
                currency="EUR",
                address=("1, Avenue du Champ de Gretz", "Verton", "62180", "FR"),
                assigned=("sales@demo.test",),
                contacts=(
                    ContactSpec(
                        "Joseph Szczygiel",
                        title="Gérant",
                        email="jszczygiel@jmactions.com",
                        user_code="49961",
                        recap_mails=True,
                        locale="fr",
                    ),
                ),
            ),
            ClientSpec(
                code="8005553",
                name="S2M ROUTAGE",
                email="s2m-routage@wanadoo.fr",
                currency="EUR",
                contacts=(ContactSpec("Sylvie Marchand", email="s2m-routage@wanadoo.fr"),),
            ),
        ),
    ),
    TenantSpec(
        slug="acme",
        name="Acme Repairs",
        timezone="America/New_York",
        country="US",
        branches=("Springfield",),
        staff=(StaffSpec("admin@acme.test", "Ada Acme", "Administrator"),),
        clients=(
            ClientSpec(
                code="1001",
                name="Coyote Industries",
                email="office@coyote.test",
                language="en",
                currency="USD",
                contacts=(
                    ContactSpec("Wile Coyote", email="wile@coyote.test", user_code="100101"),
                ),
            ),
            ClientSpec(
                code="1002",
                name="Roadrunner Deliveries",
                email="beep@roadrunner.test",
                language="en",
                currency="USD",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class SignIn:
    tenant: str
    code: str
    email: str
    role: str


def load(password: str) -> list[SignIn]:
    """Load the demo tenants (or, when present, reset their users' passwords)."""
    sign_ins: list[SignIn] = []
    for spec in DEMO:
        existing = db.session.scalar(select(Tenant).where(Tenant.slug == spec.slug))
        # The demo's one password signs everyone in: its Administrators are not yet asked
        # for a second factor (Administration > Two-factor sign-in asks it of any role).
        tenant = existing or create_tenant(spec.slug, spec.name, administrators_two_factor=False)
        with bound_to(db.session, tenant.id):
            if existing is None:
                _populate(spec, tenant)
            invited = select(Invitation.user_id).where(Invitation.state == InvitationState.PENDING)
            signing_in = select(User).where(User.id.not_in(invited))
            for user in db.session.scalars(signing_in.order_by(User.kind.desc(), User.id)):
                user.set_password(password)
                user.status = UserStatus.ACTIVE
                sign_ins.append(SignIn(spec.slug, user.code, user.email, user.role.name))
            db.session.flush()
            if existing is None and spec.slug == "demo":
                _load_chat(tenant)  # once the staff are active: only they join channels
    return sign_ins


#: Words for the generated clients that make the demo lists look like a real book.
GENERATED_NAMES = (
    "Boulangerie",
    "Garage",
    "Cabinet",
    "Imprimerie",
    "Pharmacie",
    "Quincaillerie",
    "Fromagerie",
    "Librairie",
    "Atelier",
    "Clinique",
    "Transports",
    "Menuiserie",
)
GENERATED_PLACES = (
    "Laval",
    "Longueuil",
    "Sherbrooke",
    "Gatineau",
    "Lévis",
    "Trois-Rivières",
    "Saguenay",
    "Rimouski",
)


def generated_clients(count: int, first_code: int) -> list[ClientSpec]:
    """Plausible clients, the same on every run."""
    specs = []
    for index in range(count):
        kind = GENERATED_NAMES[index % len(GENERATED_NAMES)]
        place = GENERATED_PLACES[(index // len(GENERATED_NAMES)) % len(GENERATED_PLACES)]
        name = f"{kind} de {place}"
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
        specs.append(
            ClientSpec(
                code=str(first_code + index),
                name=name,
                email=f"info@{slug}.test",
                phone=f"+1 514-555-{1000 + index:04d}",
                branch="Actif Montréal" if index % 3 else "Québec",
            )
        )
    return specs


def _populate(spec: TenantSpec, tenant: Tenant) -> None:
    tenant.timezone = spec.timezone
    tenant.default_locale = spec.locale
    tenant.default_country = spec.country
    tenant.default_currency = "USD" if spec.country == "US" else "CAD"
    tenant.next_client_number = 9000
    branches = {name: Branch(name=name) for name in spec.branches}
    db.session.add_all(branches.values())
    db.session.flush()
    tenant.support_phone = spec.support_phone
    tenant.review_url = spec.review_url
    tenant.support_sender_name = spec.support_sender_name
    tenant.support_sender_email = spec.support_sender_email
    if spec.accent_color or spec.logo:
        logo = brand.check_logo((DATA / spec.logo).read_bytes()) if spec.logo else None
        brand.change_brand(tenant, logo=logo, accent_color=spec.accent_color)
    for staff in spec.staff:
        create_staff_user(
            email=staff.email,
            name=staff.name,
            password=None,
            role=role_named(staff.role),
            initials=staff.initials,
        ).locale = staff.locale
    client_role = system_role(SystemRole.CLIENT)
    extra = generated_clients(36, 7000) if spec.slug == "demo" else []
    for client_spec in (*spec.clients, *extra):
        street, city, postal_code, country = client_spec.address or (None, None, None, None)
        client = Client(
            code=client_spec.code,
            name=client_spec.name,
            mode=client_spec.mode,
            email=client_spec.email,
            phone=client_spec.phone,
            language=client_spec.language,
            currency=client_spec.currency,
            billing_address=street,
            billing_city=city,
            billing_postal_code=postal_code,
            billing_country=country or spec.country,
            branch_id=branches[client_spec.branch].id if client_spec.branch else None,
        )
        db.session.add(client)
        db.session.flush()
        search.reindex(client)
        for email in client_spec.assigned:
            staff_user = db.session.scalar(select(User).where(User.email == email))
            client.assignments.append(ClientAssignment(user_id=staff_user.id))
        for contact_spec in client_spec.contacts:
            contact = Contact(
                client_id=client.id,
                name=contact_spec.name,
                title=contact_spec.title,
                department=contact_spec.department,
                type=contact_spec.type,
                email=contact_spec.email,
                phone=contact_spec.phone,
                mobile=contact_spec.mobile,
                fax=contact_spec.fax,
                recap_mails=contact_spec.recap_mails,
            )
            db.session.add(contact)
            db.session.flush()
            if contact_spec.invited_by:
                inviter = db.session.scalar(
                    select(User).where(User.email == contact_spec.invited_by)
                )
                invitations.grant(
                    contact,
                    code=invitations.propose_user_code(contact),
                    email=contact.email,
                    allowed_network=None,
                    branch_id=None,
                    actor=Actor(tenant, user=inviter),
                )
            if contact_spec.user_code:
                db.session.add(
                    User(
                        code=contact_spec.user_code,
                        email=contact_spec.email,
                        name=contact_spec.name,
                        role=client_role,
                        kind=UserKind.CLIENT,
                        client_id=client.id,
                        contact_id=contact.id,
                        locale=contact_spec.locale,
                    )
                )
    db.session.flush()
    if spec.slug == "demo":
        _load_credit(tenant)
        _load_requests(tenant)


#: Seed 002's history of account 4996 (JM-ACTIONS), oldest first, in the tenant's time:
#: initials (or "purchase"), summary, minutes, billing, local time.
HISTORY_4996 = (
    (
        "HRY",
        "Probleme de connexion : interdiction de se connecter depuis le poste TEnatives "
        "de réinit du fichier COMPUTER puis SESSION => pas d'amélioration => récupération d'un "
        "fichier USER de la sauvegarde pour le recopier dans base production",
        18,
        Billing.NORMAL,
        "2020-11-06 09:22:56",
    ),
    (
        "CPL",
        "Pb n° de facture disparue, pb achat crédit temps, affichage de l'agenda, joindre "
        "une pièce à une écriture.",
        10,
        Billing.NORMAL,
        "2021-03-23 14:39:40",
    ),
    ("purchase", "", 60, None, "2021-03-24 09:22:19"),
    ("NVL", "Enregistrement licence extension", 3, Billing.FREE, "2021-04-30 11:46:11"),
    ("ECN", "Paramétrage gmail, Nom de facture (bug ?)", 10, Billing.NORMAL, "2021-07-30 09:57:19"),
    (
        "HRY",
        "Paramétrage Gmail pour accepter connexions Gestan",
        5,
        Billing.NORMAL,
        "2022-02-01 14:13:12",
    ),
)


def _load_credit(tenant: Tenant) -> None:
    """Seed 002's account 4996 with its six lines, S2M ROUTAGE at -15 minutes, an account
    serving two companies, and a customer flagged "do not intervene"."""
    zone = ZoneInfo(tenant.timezone)

    def at(local: str) -> datetime:
        return datetime.fromisoformat(local).replace(tzinfo=zone)

    staff = {
        user.initials: user
        for user in db.session.scalars(select(User).where(User.initials.is_not(None)))
    }
    by_sales = Actor(tenant, user=staff["MAV"])
    clients = {client.code: client for client in db.session.scalars(select(Client))}

    def account(code: str, *linked: str) -> CreditAccount:
        opened = credit.open_account(clients[code], customer_id=code, actor=by_sales)
        for other in linked:
            credit.link(opened, clients[other], actor=by_sales)
        return opened

    jm = account("4996")
    credit.adjust(
        jm,
        delta=33,
        reason="Solde d'ouverture",
        actor=by_sales,
        at=at("2020-10-26 10:00:00"),
    )
    for initials, summary, minutes, billing, local in HISTORY_4996:
        if billing is None:
            credit.record_purchase(
                jm,
                minutes=minutes,
                amount=None,
                reference=None,
                valid_until=date(2021, 7, 30),
                actor=by_sales,
                at=at(local),
            )
            continue
        credit.record_intervention(
            jm,
            client=clients["4996"],
            minutes=minutes,
            billing=billing,
            summary=summary,
            advice=None,
            review_invited=False,
            actor=Actor(tenant, user=staff[initials]),
            override_reason=None,
            at=at(local),
        )

    s2m = account("8005553")
    credit.adjust(
        s2m,
        delta=-15,
        reason="Solde d'ouverture",
        actor=by_sales,
        at=at("2020-03-01 09:00:00"),
    )

    shared = account("8005551", "7000")
    credit.record_purchase(
        shared,
        minutes=120,
        amount=Decimal("180.00"),
        reference="F-2026-041",
        valid_until=date(2027, 12, 31),
        actor=by_sales,
    )

    flagged = account("7001")
    credit.adjust(flagged, delta=-90, reason="Solde d'ouverture", actor=by_sales)
    credit.set_npi(flagged, True, reason="Factures impayées depuis mars", actor=by_sales)


def _load_requests(tenant: Tenant) -> None:
    """Seed 001's requests from JM-ACTIONS, one in each state: a flash malfunction
    acknowledged (its mail in the mailbox), an improvement with a quote waiting for the
    customer's answer, and the rest of a request's life."""
    client = db.session.scalar(select(Client).where(Client.code == "4996"))
    joseph = db.session.scalar(select(User).where(User.email == "jszczygiel@jmactions.com"))
    tech = db.session.scalar(select(User).where(User.email == "tech@demo.test"))
    as_joseph, as_tech = Actor(tenant, user=joseph), Actor(tenant, user=tech)

    def ask(kind: RequestKind, subject: str, description: str):
        return requests.open_request(
            client,
            requests.NewRequest(kind, subject, description),
            contact=joseph.contact,
            actor=as_joseph,
        )

    ask(
        RequestKind.HELP,
        "Comment exporter les factures du mois ?",
        "Je voudrais envoyer à mon comptable toutes les factures de novembre.",
    )
    flash = ask(
        RequestKind.MALFUNCTION,
        "Impossible d'imprimer les factures",
        "Depuis la mise à jour, le bouton Imprimer ne fait rien. Aucun message.",
    )
    requests.acknowledge(flash, priority=Priority.FLASH, assignee=tech, actor=as_tech)
    busy = ask(
        RequestKind.MALFUNCTION,
        "Le total de l'agenda est faux",
        "Le total des heures de la semaine ne compte pas le samedi.",
    )
    requests.acknowledge(busy, priority=Priority.NORMAL, assignee=tech, actor=as_tech)
    requests.move(busy, RequestState.IN_PROGRESS, actor=as_tech)
    waiting = ask(
        RequestKind.MALFUNCTION,
        "Message d'erreur à l'ouverture",
        "Un message « fichier verrouillé » apparaît le matin.",
    )
    requests.acknowledge(waiting, priority=Priority.HIGH, assignee=tech, actor=as_tech)
    requests.reply(
        waiting, "Pouvez-vous nous envoyer une copie d'écran du message ?", actor=as_tech
    )
    requests.move(waiting, RequestState.WAITING, actor=as_tech)
    fixed = ask(
        RequestKind.MALFUNCTION,
        "Numéro de facture disparu",
        "La facture 2024-118 n'apparaît plus dans la liste.",
    )
    requests.acknowledge(fixed, priority=Priority.HIGH, assignee=tech, actor=as_tech)
    requests.reply(fixed, "Internal: index rebuilt on their server.", actor=as_tech, internal=True)
    requests.move(fixed, RequestState.RESOLVED, actor=as_tech)
    closed = ask(RequestKind.HELP, "Changer mon mot de passe", "Où change-t-on son mot de passe ?")
    requests.acknowledge(closed, priority=None, assignee=tech, actor=as_tech)
    requests.close(closed, actor=as_joseph)
    quoted = ask(
        RequestKind.IMPROVEMENT,
        "Export des relances vers Excel",
        "Nous aimerions exporter la liste des relances clients dans Excel.",
    )
    requests.acknowledge(quoted, priority=None, assignee=tech, actor=as_tech)
    requests.quote(quoted, Decimal("1.5"), actor=as_tech)
    refused = ask(RequestKind.IMPROVEMENT, "Un thème sombre", "L'écran est trop lumineux le soir.")
    requests.turn_down(
        refused,
        RequestState.REFUSED,
        "Un thème sombre n'est pas prévu : utilisez le mode sombre de votre navigateur.",
        actor=as_tech,
    )
    again = ask(
        RequestKind.MALFUNCTION, "Impression impossible", "Le bouton Imprimer ne marche pas."
    )
    requests.turn_down(
        again,
        RequestState.DUPLICATE,
        "Même problème que votre demande " + flash.reference + ", que nous suivons.",
        actor=as_tech,
        duplicate_of=flash,
    )


def _load_chat(tenant: Tenant) -> None:
    """Seed 003's channels ("Administratif", "Service marketing", "Machine à café"),
    each with its colour and a few messages, and the staff's nicknames."""
    staff = {user.email.split("@")[0]: user for user in db.session.scalars(select(User))}
    admin, tech, sales = staff["admin"], staff["tech"], staff["sales"]
    chat.change_profile(tech, nickname="HRY", newest_first=False, actor=Actor(tenant, user=tech))
    everyone = db.session.scalar(select(ChatChannel).where(ChatChannel.unique_key == "everyone"))
    channels = {}
    for name, color, founder, members in (
        ("Administratif", "#1f5fbf", admin, [sales]),
        ("Service marketing", "#8e24aa", sales, [admin]),
        ("Machine à café", "#a15c00", tech, [admin, sales, staff["ecn"], staff["nvl"]]),
    ):
        channels[name] = chat.create_channel(
            name, color, None, [m.id for m in members], actor=Actor(tenant, user=founder)
        )
    for channel, author, text in (
        (everyone, admin, "Bienvenue sur le clavardage de **M. Répare Tout** !"),
        (everyone, tech, "Merci ! Je suis sur le dossier *JM-ACTIONS* cet après-midi."),
        (channels["Administratif"], sales, "Les factures de novembre partent vendredi."),
        (channels["Machine à café"], staff["nvl"], "Il reste du café ? ☕"),
        (channels["Machine à café"], tech, "Plus un grain. @Roger.Point, on en commande ?"),
    ):
        chat.post(channel, text, actor=Actor(tenant, user=author))
