"""Test data for the schema-driven fuzzer (./infra/fuzz-test).

Two kinds of rule the OpenAPI document cannot state, kept here so that a
request the document calls valid is valid on the server:

* An assistant's `model` must be one of its workspace's `allowedModels`,
  and a workspace's `defaultModel` one of its own `allowedModels`. Before a
  call with valid data, those fields are set from the workspace as it is
  now (the fuzzer itself changes its models as it goes).
* An SMS configuration is saved only with credentials Twilio accepts for
  a number on that account (the server asks Twilio first), so a valid one
  names the local Twilio emulator's demo account and number.
* A webhook's URL must be https to a public name, or (on the fuzz run's
  dev server, which delivers to loopback only) a loopback one; a valid one
  is the dev server's own receiver. A brought secret must be the base64
  of 24 to 64 bytes, which no pattern states; a valid one is made.
* The fuzzer acts as one owner. Removing, demoting or suspending that
  owner, or revoking its own key, would leave every later case a 401 or a
  404 that tests nothing, so those cases are not generated.
"""

import base64
import json
import os
import urllib.request

import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
KEY = os.environ["FUZZ_API_KEY"]
OWN_USER = os.environ["FUZZ_USER_ID"]
OWN_KEY = os.environ["FUZZ_KEY_ID"]
DEFAULT_ALLOWED_MODELS = ["gpt-4o", "gpt-4o-mini", "grok-2"]


def allowed_models(workspace_id):
    request = urllib.request.Request(
        f"{BASE_URL}/api/workspaces/{workspace_id}",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["allowedModels"]
    except Exception:
        return DEFAULT_ALLOWED_MODELS


@schemathesis.hook
def filter_path_parameters(ctx, path_parameters):
    path = path_parameters or {}
    return path.get("user_id") != OWN_USER and path.get("key_id") != OWN_KEY


def is_positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


ASSISTANT_WRITES = {
    "POST /api/workspaces/{workspace_id}/assistants",
    "PATCH /api/workspaces/{workspace_id}/assistants/{assistant_id}",
}
WORKSPACE_WRITES = {"POST /api/workspaces", "PATCH /api/workspaces/{workspace_id}"}
SMS_CONFIG_WRITES = {"PUT /api/workspaces/{workspace_id}/assistants/{assistant_id}/sms"}
WEBHOOK_WRITES = {
    "POST /api/workspaces/{workspace_id}/webhooks",
    "PATCH /api/workspaces/{workspace_id}/webhooks/{webhook_id}",
}
INBOX = f"{BASE_URL}/_local/webhooks/inbox"
VALID_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
# The dev server's Twilio emulator's demo account (infra/devtools/src/emulators/twilio.rs).
DEMO_TWILIO = {
    "twilioAccountSid": "AC0123456789abcdef0123456789abcdef",
    "twilioAuthToken": "local0auth0token0f0r0the0emulator",
    "phoneNumber": "+15005550006",
}


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    body = case.body
    if not is_positive(case) or not isinstance(body, dict):
        return
    operation = case.operation.label
    workspace_id = (case.path_parameters or {}).get("workspace_id")
    if operation in ASSISTANT_WRITES and "model" in body:
        body["model"] = allowed_models(workspace_id)[0]
    if operation in SMS_CONFIG_WRITES:
        body.update(DEMO_TWILIO)
    if operation in WEBHOOK_WRITES:
        if "url" in body:
            body["url"] = INBOX
        if "secret" in body:
            body["secret"] = VALID_SECRET
    if operation in WORKSPACE_WRITES and "defaultModel" in body:
        models = body.get("allowedModels")
        if not models:
            models = allowed_models(workspace_id) if workspace_id else DEFAULT_ALLOWED_MODELS
        body["defaultModel"] = models[0]
