"""A mail relay for sync-server/tests/smtp.rs: aiosmtpd on 127.0.0.1, which takes
every message and writes it into a directory as one JSON file (the envelope, every
header decoded as a mail program shows it, the raw header block, the decoded text),
and answers two recipients as real relays do: `voll@...` always with 452 (try again
later), `unbekannt@...` with 550 (no such user).

    python3 smtp_relay.py PORT DIRECTORY

It prints `ready` once it listens, and runs until its standard input closes or it is
killed.
"""

import email
import email.policy
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Relay:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local == "unbekannt":
            return "550 5.1.1 No such user here"
        if local == "voll":
            return "452 4.2.2 Mailbox full, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {name: str(value) for name, value in message.items()},
            "head": raw.split(b"\r\n\r\n", 1)[0].decode("ascii"),
            "text": message.get_content().replace("\r\n", "\n"),
        }
        with self.lock:
            self.count += 1
            # The process id keeps a restarted relay from writing over earlier files.
            name = f"{os.getpid()}-{self.count:04}.json"
        temporary = os.path.join(self.directory, "." + name)
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(record, file, ensure_ascii=False)
        os.rename(temporary, os.path.join(self.directory, name))
        return "250 Message accepted for delivery"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Relay(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


main()
