"""A webhook receiver that verifies every request with the Standard
Webhooks library (`pip install standardwebhooks`), as a customer's would.

    WEBHOOK_SECRET=whsec_... python3 infra/examples/webhook_receiver.py [port]

Point a webhook at http://127.0.0.1:<port>/ (the dev server lets loopback
through). Each verified event is printed as one JSON line; a request that
does not verify (wrong secret, altered body, a timestamp more than five
minutes off) is answered 400 and printed as refused.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

VERIFIER = Webhook(os.environ["WEBHOOK_SECRET"])


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            event = VERIFIER.verify(body, headers)
        except WebhookVerificationError as error:
            print(json.dumps({"refused": str(error)}), flush=True)
            self.send_response(400)
            self.end_headers()
            return
        print(
            json.dumps(
                {
                    "verified": event["event"],
                    "id": headers["webhook-id"],
                    "dataId": event["data"].get("id"),
                }
            ),
            flush=True,
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8787
    print(f"verifying webhooks on http://127.0.0.1:{port}/", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
