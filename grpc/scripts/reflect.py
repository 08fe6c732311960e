#!/usr/bin/env python3
"""Call the Quartet gRPC server with nothing but server reflection: no .proto file,
no generated code.

It uses Python's grpcio-reflection, which speaks only grpc.reflection.v1alpha, so it
also shows that the server answers that version. Descriptors come from the server into
a google.protobuf DescriptorPool; request and response classes are made from them with
message_factory.GetMessageClass; requests are read from JSON and answers printed as
JSON, the way grpcurl does.

    reflect.py TARGET wait [SECONDS]          wait until reflection answers (default 60 s)
    reflect.py TARGET list                    services, through v1alpha reflection
    reflect.py TARGET describe SERVICE        its RPCs with request and response types
    reflect.py TARGET call SERVICE/METHOD [JSON]   one unary call (JSON defaults to {})
    reflect.py TARGET call SERVICE/METHOD JSON N   a server-streaming call: prints its
                                              first N messages (or all, if it ends first)
                                              and hangs up

TARGET is host:port, e.g. 127.0.0.1:50051. Exit status: 0 on success, 1 when a call
ends with a non-OK status (printed as "ERROR code: message"), 2 on bad usage.
"""

import json
import sys
import time

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

# Every call gets a deadline, so a stuck server fails the script instead of hanging it.
CALL_TIMEOUT_S = 10.0


def usage(message):
    print(f"reflect.py: {message}\n", file=sys.stderr)
    print(__doc__, file=sys.stderr)
    sys.exit(2)


def wait(channel, seconds):
    """Waits until a v1alpha reflection listing succeeds, or fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            grpc.channel_ready_future(channel).result(
                timeout=max(0.1, deadline - time.monotonic())
            )
            list(ProtoReflectionDescriptorDatabase(channel).get_services())
            return
        except (grpc.FutureTimeoutError, grpc.RpcError) as error:
            if time.monotonic() >= deadline:
                print(f"no reflection answer within {seconds} s: {error}", file=sys.stderr)
                sys.exit(1)
            time.sleep(0.2)


def find_service(pool, name):
    try:
        return pool.FindServiceByName(name)
    except KeyError:
        usage(f"no service {name!r} on the server")


def describe(pool, name):
    service = find_service(pool, name)
    print(f"service {service.full_name} ({service.file.name})")
    for method in service.methods:
        sends = "stream " if method.client_streaming else ""
        returns = "stream " if method.server_streaming else ""
        print(
            f"  rpc {method.name}({sends}{method.input_type.full_name})"
            f" returns ({returns}{method.output_type.full_name})"
        )


def call(channel, pool, path, body, count):
    service_name, _, method_name = path.partition("/")
    service = find_service(pool, service_name)
    method = service.methods_by_name.get(method_name)
    if method is None:
        usage(f"no method {method_name!r} in {service.full_name}")
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    try:
        request = json_format.Parse(body, request_class())
    except json_format.ParseError as error:
        usage(f"the request is not a {method.input_type.full_name}: {error}")
    if method.client_streaming:
        usage(f"{path} is client-streaming; this script sends one request")
    if method.server_streaming:
        stream(channel, method, request, response_class, count)
        return
    if count is not None:
        usage(f"{path} is unary: it has no messages to count")
    rpc = channel.unary_unary(
        f"/{service.full_name}/{method.name}",
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )
    try:
        response = rpc(request, timeout=CALL_TIMEOUT_S)
    except grpc.RpcError as error:
        print(f"ERROR {error.code().name}: {error.details()}")
        sys.exit(1)
    print(json_format.MessageToJson(response, preserving_proto_field_name=True, indent=2))


def stream(channel, method, request, response_class, count):
    """Prints the first `count` messages (default 1) of a server-streaming call, then
    cancels it. The deadline covers the whole call, so a stream that sends fewer within
    it fails with DEADLINE_EXCEEDED instead of hanging."""
    rpc = channel.unary_stream(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=type(request).SerializeToString,
        response_deserializer=response_class.FromString,
    )
    responses = rpc(request, timeout=CALL_TIMEOUT_S)
    wanted = 1 if count is None else count
    try:
        for seen, response in enumerate(responses, start=1):
            print(
                json_format.MessageToJson(
                    response, preserving_proto_field_name=True, indent=2
                )
            )
            if seen >= wanted:
                break
    except grpc.RpcError as error:
        print(f"ERROR {error.code().name}: {error.details()}")
        sys.exit(1)
    finally:
        responses.cancel()


def main(argv):
    if len(argv) < 3:
        usage("missing TARGET or command")
    target, command, args = argv[1], argv[2], argv[3:]
    with grpc.insecure_channel(target) as channel:
        if command == "wait":
            wait(channel, float(args[0]) if args else 60.0)
            return
        database = ProtoReflectionDescriptorDatabase(channel)
        pool = descriptor_pool.DescriptorPool(database)
        if command == "list" and not args:
            for name in sorted(database.get_services()):
                print(name)
        elif command == "describe" and len(args) == 1:
            describe(pool, args[0])
        elif command == "call" and len(args) in (1, 2, 3):
            body = args[1] if len(args) >= 2 else "{}"
            try:
                json.loads(body)
            except json.JSONDecodeError as error:
                usage(f"the request is not JSON: {error}")
            count = None
            if len(args) == 3:
                if not args[2].isdigit() or int(args[2]) < 1:
                    usage(f"the message count must be a positive number, not {args[2]!r}")
                count = int(args[2])
            call(channel, pool, args[0], body, count)
        else:
            usage(f"unknown command or wrong arguments: {' '.join(argv[2:])}")


if __name__ == "__main__":
    main(sys.argv)
