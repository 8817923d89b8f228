"""The local AWS-compatible server: moto's server app, with DynamoDB calls
serialized.

moto applies a TransactWriteItems by copying the table and restoring the copy
if a condition fails; two transactions at once on one table corrupt each other
(500s, lost writes). DynamoDB itself runs transactions serializably, so
running DynamoDB calls one at a time here gives the semantics the code relies
on. Other services (SQS long polls in particular) stay concurrent.
"""

import argparse
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

DYNAMODB_LOCK = threading.Lock()


class SerializedDynamoDB:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with DYNAMODB_LOCK:
                # Consume the whole response while holding the lock.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
