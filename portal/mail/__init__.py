"""Mail: the outbox and its worker, the recap and notice mails, and the two mail
pages (unsubscribe, the development mailbox)."""
