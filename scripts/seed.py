#!/usr/bin/env python3
"""Delivers a few sample messages to a user over LMTP (for the demo)."""
import smtplib
import sys
from email.message import EmailMessage

host, port, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
samples = [
    ("Welcome to cyrusgo", "This mailbox is served by cyrusgo.\n"),
    ("A second message", "Flags, folders, IDLE and search all work here.\n"),
    ("Meeting notes", "Agenda:\n- LMTP delivery\n- Sieve\n- POP3\n"),
]
lmtp = smtplib.LMTP(host, port)
for i, (subject, body) in enumerate(samples):
    m = EmailMessage()
    m["From"] = "demo-sender@example.com"
    m["To"] = f"{user}@localhost"
    m["Subject"] = subject
    m["Message-ID"] = f"<demo-{i}@example.com>"
    m.set_content(body)
    lmtp.send_message(m, to_addrs=[user])
lmtp.quit()
print(f"delivered {len(samples)} messages to {user}")
