"""Concurrent technicians never lose a minute: 200 interventions on one account from
8 threads, each with its own database connection, leave an exact balance and chain.
Runs on SQLite (``BEGIN IMMEDIATE``) and on PostgreSQL (``SELECT ... FOR UPDATE``)."""

import threading

from sqlalchemy import select

from portal.extensions import db
from portal.models import Billing, Client, CreditAccount, LedgerEntry, User
from portal.services import credit
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import acting

THREADS = 8
PER_THREAD = 25


def test_200_interventions_from_8_threads_keep_the_balance_and_chain_exact(app, world):
    with bound_to(db.session, world.a.tenant_id):  # enough credit that the policy says go
        credit.record_purchase(
            credit.lock(world.a.account_id),
            minutes=1000,
            amount=None,
            reference=None,
            valid_until=None,
            actor=acting(db.session.get(User, world.a.admin_id)),
        )
        db.session.commit()
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def technician(number: int) -> None:
        try:
            with app.app_context():  # its own session, so its own connection
                with bound_to(db.session, world.a.tenant_id):
                    tech = db.session.scalar(select(User).where(User.email == world.a.tech_email))
                    client = db.session.get(Client, world.a.client_id)
                    start.wait()
                    for index in range(PER_THREAD):
                        account = credit.lock(world.a.account_id)
                        credit.record_intervention(
                            account,
                            client=client,
                            minutes=1 + (index % 3),
                            billing=Billing.FREE if index % 5 == 0 else Billing.NORMAL,
                            summary=f"thread {number} call {index}",
                            advice=None,
                            review_invited=False,
                            actor=acting(tech),
                            override_reason=None,
                        )
                        db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported below, with the thread's traceback
            failures.append(error)

    threads = [threading.Thread(target=technician, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    deducted = sum(1 + (index % 3) for index in range(PER_THREAD) if index % 5) * THREADS
    db.session.expire_all()
    with bound_to(db.session, world.a.tenant_id):
        account = db.session.get(CreditAccount, world.a.account_id)
        positions = db.session.scalars(
            select(LedgerEntry.position)
            .where(LedgerEntry.account_id == account.id)
            .order_by(LedgerEntry.position)
        ).all()
        assert account.balance_minutes == 1050 - deducted
        assert account.entry_count == 2 + THREADS * PER_THREAD
    assert positions == list(range(1, 3 + THREADS * PER_THREAD))
    with cross_tenant(db.session):
        assert credit.verify(db.session) == []
