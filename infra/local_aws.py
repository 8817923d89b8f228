"""The local AWS-compatible server: moto's server app, with DynamoDB calls
serialized, made faithful where the code relies on DynamoDB's behaviour and
fast where moto spent its time on nothing DynamoDB does.

moto applies a TransactWriteItems by copying the table and restoring the copy
if a condition fails; two transactions at once on one table corrupt each other
(500s, lost writes). DynamoDB itself runs transactions serializably, so
running DynamoDB calls one at a time here gives the semantics the code relies
on. Other services (SQS long polls in particular) stay concurrent.

Each patch below says what moto did and why it mattered: a transaction saves
only the items it names (moto deep-copied the whole table), honours its
ClientRequestToken (moto ignored it), a query reads only the part of its
partition it can answer from (moto sorted the whole table in Python), item
answers are written as the JSON they already are, moto's per-request lookups
of what never changes are made once, the listen backlog fits 200 clients,
a queue's messages are counted without the clock read per message, and a
dead-letter queue can be redriven as SQS's message move task does.
"""

import argparse
import base64
import bisect
import collections
import copy
import functools
import inspect
import json
import signal
import sys
import threading
import time

import moto.backends
import moto.core.responses
import moto.sqs.models as sqs_models
from moto.core.responses import ActionResult
from moto.sqs.responses import SQSResponse
import uuid
import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, run_simple

DYNAMODB_LOCK = threading.Lock()
CONNECTIONS_WAITING = 4096


class SerializedDynamoDB:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with DYNAMODB_LOCK:
                # Consume the whole response while holding the lock.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class TablesNotCopied:
    """Stands in for the `copy` module inside moto's DynamoDB backend while a
    transaction runs: tables come back as themselves, anything else is
    copied as before."""

    def deepcopy(self, value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def saved_items(backend, transact_items):
    """(table, hash key, range key, a copy of the item or None) for every item
    the transaction names; None when the request is malformed, which moto
    itself then refuses."""
    saved = []
    try:
        for entry in transact_items:
            _, action = next(iter(entry.items()))
            table = backend.get_table(action["TableName"])
            key = action["Key"] if "Key" in action else action["Item"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.has_range_key else None
            current = table.get_item(hash_key, range_key)
            saved.append((table, hash_key, range_key, copy.deepcopy(current)))
    except Exception:  # noqa: BLE001 - moto's own checks name the problem
        return None
    return saved


def restore(saved):
    for table, hash_key, range_key, item in reversed(saved):
        if table.has_range_key:
            if item is None:
                table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item


def journaled(transact_write_items):
    def transact(backend, transact_items):
        saved = saved_items(backend, transact_items)
        if saved is None:
            return transact_write_items(backend, transact_items)
        dynamodb_models.copy = TablesNotCopied()
        try:
            return transact_write_items(backend, transact_items)
        except Exception:
            restore(saved)
            raise
        finally:
            dynamodb_models.copy = copy

    return transact


class SortedPartition(dict):
    """A partition's items by sort key that also keeps its sort keys in
    order, sorted again only after a key comes or goes (an update of an
    item's attributes leaves the order as it was)."""

    _order = None  # (the keys' strings, the keys), in order; None: stale

    def __setitem__(self, key, value):
        if key not in self:
            self._order = None
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self._order = None
        super().__delitem__(key)

    def pop(self, *args):
        self._order = None
        return super().pop(*args)

    def popitem(self):
        self._order = None
        return super().popitem()

    def setdefault(self, key, default=None):
        if key not in self:
            self._order = None
        return super().setdefault(key, default)

    def update(self, *args, **kwargs):
        self._order = None
        super().update(*args, **kwargs)

    def clear(self):
        self._order = None
        super().clear()

    def in_order(self):
        """The sort keys' strings and the keys, in order; None when some
        sort key is not a string (left to moto)."""
        if self._order is None:
            keys = list(self)
            if not all(key.type == "S" for key in keys):
                return None
            keys.sort(key=lambda key: key.value)
            self._order = ([key.value for key in keys], keys)
        return self._order


def sorted_partitions(init):
    def table_init(table, *args, **kwargs):
        init(table, *args, **kwargs)
        table.items = collections.defaultdict(SortedPartition)

    return table_init


def partition_only(query):
    """A query of the table itself reads only the part of its partition the
    answer can come from.

    moto reads every item of the table and keeps those with the partition's
    key, then sorts them with comparisons written in Python (about 300 ms
    for a partition of 10,000) before it applies the key condition and
    `Limit`: time proportional to the whole table, where DynamoDB reads only
    the page. Here a partition's string sort keys are kept in order, a
    `begins_with` condition is found in them by bisection, and a first page
    is cut to the `Limit` items it can return and the one after them (which
    is how moto knows to answer a LastEvaluatedKey); the other key
    conditions on a string sort key (=, <, <=, >, >=, BETWEEN) are found by
    bisection the same way. moto still runs its own
    query on what is left, so its answers, checks and errors are unchanged
    but for one: a page that ends at the condition's last key carries no
    LastEvaluatedKey, where moto took one from the first key past the
    condition (DynamoDB may answer either way; a reader follows it to an
    empty page)."""
    signature = inspect.signature(query)

    def partition_query(table, *args, **kwargs):
        call = signature.bind(table, *args, **kwargs).arguments
        hash_key = call.get("hash_key")
        if call.get("index_name") or hash_key is None or not table.has_range_key:
            return query(table, *args, **kwargs)
        partition = table.items.get(hash_key, {})
        order = partition.in_order() if isinstance(partition, SortedPartition) else None
        if order is None:
            candidates = list(partition.values())
        else:
            strings, keys = order
            first, last = answerable(strings, call)
            candidates = [partition[key] for key in keys[first:last]]
        table.all_items = lambda: candidates
        try:
            return query(table, *args, **kwargs)
        finally:
            del table.all_items

    return partition_query


def answerable(strings, call):
    """The run of a partition's sorted sort keys a query's answer can come
    from, as indices."""
    first, last = 0, len(strings)
    comparison, objects = call.get("range_comparison"), call.get("range_objs") or []
    if comparison and not (objects and all(o.type == "S" for o in objects)):
        return first, last
    values = [o.value for o in objects]
    if comparison == "BEGINS_WITH":
        first = bisect.bisect_left(strings, values[0])
        bound = past_prefix(values[0])
        if bound is not None:
            last = bisect.bisect_left(strings, bound, first)
    elif comparison == "EQ":
        first = bisect.bisect_left(strings, values[0])
        last = bisect.bisect_right(strings, values[0], first)
    elif comparison == "GE":
        first = bisect.bisect_left(strings, values[0])
    elif comparison == "GT":
        first = bisect.bisect_right(strings, values[0])
    elif comparison == "LE":
        last = bisect.bisect_right(strings, values[0])
    elif comparison == "LT":
        last = bisect.bisect_left(strings, values[0])
    elif comparison == "BETWEEN" and len(values) == 2:
        first = bisect.bisect_left(strings, values[0])
        last = max(first, bisect.bisect_right(strings, values[1]))
    elif comparison:
        return first, last
    limit = call.get("limit")
    if limit and call.get("exclusive_start_key") is None and not call.get("filter_kwargs"):
        keep = limit + 1
        if call.get("scan_index_forward", True) is not False:
            last = min(last, first + keep)
        else:
            first = max(first, last - keep)
    return first, last


def past_prefix(prefix):
    """The least string above every string that starts with `prefix`, which
    is where their run in sorted order ends; None when no string is."""
    prefix = prefix.rstrip(chr(0x10FFFF))
    if not prefix:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


# The operations whose answers are items: their result is already DynamoDB's
# JSON, so it is written out as it is.
ITEM_OPERATIONS = frozenset(
    {
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "TransactWriteItems",
        "UpdateItem",
    }
)


def wire(value):
    """A DynamoDB result as its JSON: binary values in base64, absent
    members left out."""
    if isinstance(value, dict):
        return {name: wire(member) for name, member in value.items() if member is not None}
    if isinstance(value, list):
        return [wire(member) for member in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    return value


def plain_json(execute_result):
    """Items are written with `json.dumps`: moto's generic serializer walks
    every attribute value against the API's model (about 70% of a
    four-item BatchGetItem's time, so a batch read cost 1.8x a GetItem)
    to produce the same JSON."""

    def execute(result, context):
        if context.operation_model.name not in ITEM_OPERATIONS:
            return execute_result(result, context)
        status = context.operation_model.http.get("responseCode", 200)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return status, headers, json.dumps(wire(result.result), separators=(",", ":"))

    return execute


class IdempotentParameterMismatch(DynamodbException):
    error_type = ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException"

    def __init__(self):
        super().__init__(
            IdempotentParameterMismatch.error_type,
            message="The ClientRequestToken was used before with other parameters",
        )


IDEMPOTENCY_WINDOW_SECONDS = 600


def idempotent(transact_write_items):
    """A transaction sent again with its `ClientRequestToken` succeeds
    without being applied twice, within DynamoDB's ten minutes; with other
    items it is refused. The SDK gives each transaction a token and resends
    it when an attempt times out, so when the first attempt had landed,
    moto (which ignores the token) cancelled the second: a delete answered
    404, a connection 409, after doing what was asked."""
    succeeded = collections.OrderedDict()  # token -> (when, items, answer)

    def transact(handler):
        token = handler.body.get("ClientRequestToken")
        if not token:
            return transact_write_items(handler)
        now = time.monotonic()
        while succeeded and now - next(iter(succeeded.values()))[0] > IDEMPOTENCY_WINDOW_SECONDS:
            succeeded.popitem(last=False)
        items = json.dumps(handler.body.get("TransactItems"), sort_keys=True, default=repr)
        if token in succeeded:
            _, first_items, answer = succeeded[token]
            if first_items != items:
                raise IdempotentParameterMismatch()
            return answer
        answer = transact_write_items(handler)
        succeeded[token] = (now, items, answer)
        return answer

    return transact


def remembered(lookup):
    """A lookup of what never changes while the server runs, made once per
    argument: moto lists its own package directories (some 180 `stat`
    calls) to route every request, and lists a handler class's methods to
    dispatch it, both behind locks every request takes; under 200 clients
    that was a fifth of the server's busy time."""
    return functools.lru_cache(maxsize=None)(lambda *args: tuple(lookup(*args)))


def counted_with_one_clock_read():
    """moto counts every message of a queue (visible, in flight, delayed)
    for each message it sends or receives, and twice more for each message
    a receive returns (its retention check reads every queue attribute),
    reading the clock through `datetime` twice per message counted. A
    webhook benchmark piles a few thousand delayed retries on one queue,
    and a profile of the server found three quarters of its busy time
    there, until its SQS calls took longer than the clients' 10 s. The
    counts now read the clock once per count, and the retention check
    reads the one attribute it needs; what they answer is unchanged."""
    queue = sqs_models.Queue

    def now_ms():
        return time.time() * 1000.0

    def visible(message, now):
        return now > message.visible_at

    def delayed(message, now):
        return now < message.delayed_until

    def messages(self):
        now = now_ms()
        return [m for m in self._messages if visible(m, now) and not delayed(m, now)]

    def count(test):
        def counted(self):
            now = now_ms()
            return sum(1 for m in self._messages if test(m, now))

        return property(counted)

    queue.messages = property(messages)
    queue.approximate_number_of_messages = property(lambda self: len(self.messages))
    queue.approximate_number_of_messages_delayed = count(delayed)
    queue.approximate_number_of_messages_not_visible = count(lambda m, now: not visible(m, now))

    def within_retention(self, queue_name, message):
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > time.time()

    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = within_retention


def message_move_tasks():
    """moto 5.2 has no StartMessageMoveTask, which `admin dlq redrive` sends
    as it does to SQS: every message of a dead-letter queue goes back to the
    queue it came from (the one whose redrive policy names it) or to
    `DestinationArn`, counted as never received, and the task answers its
    handle. Here the move is done by the time the call answers; in SQS it
    runs on, and the CLI waits for the queue to empty either way."""

    def start_message_move_task(self):
        backend = self.sqs_backend
        source = backend.get_queue(self._get_param("SourceArn").split(":")[-1])
        destination_arn = self._get_param("DestinationArn")
        if destination_arn:
            destination = backend.get_queue(destination_arn.split(":")[-1])
        else:
            senders = backend.list_dead_letter_source_queues(source.name)
            if not senders:
                raise sqs_models.InvalidParameterValue(
                    "the source queue is no queue's dead-letter queue"
                )
            destination = senders[0]
        with source._messages_lock:
            moving, source._messages = list(source._messages), []
        for message in moving:
            message.approximate_receive_count = 0
            message.approximate_first_receive_timestamp = None
            message.visible_at = 0.0
            message.delayed_until = 0.0
            destination.add_message(message)
        return ActionResult({"TaskHandle": str(uuid.uuid4())})

    SQSResponse.start_message_move_task = start_message_move_task


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    DynamoDBBackend.transact_write_items = journaled(DynamoDBBackend.transact_write_items)
    Table.__init__ = sorted_partitions(Table.__init__)
    Table.query = partition_only(Table.query)
    DynamoHandler.transact_write_items = idempotent(DynamoHandler.transact_write_items)
    DynamoResult.execute_result = plain_json(DynamoResult.execute_result)
    moto.backends.list_of_moto_modules = remembered(moto.backends.list_of_moto_modules)
    moto.core.responses.method_names_from_class = remembered(
        moto.core.responses.method_names_from_class
    )
    # werkzeug closes every connection after its response, so each SDK call
    # connects anew; with its backlog of 128, 200 clients overflowed it and
    # the kernel dropped connections, which the clients' TCP sent again
    # after 1 s, then 3 s (the tail of the load benchmark).
    BaseWSGIServer.request_queue_size = CONNECTIONS_WAITING
    counted_with_one_clock_read()
    message_move_tasks()
    app = SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
