"""Runs in a fresh interpreter: import one DAG file and report, as one JSON line on stdout.

``time FILE``       seconds to import FILE (Airflow included: the file imports it);
``time FILE --warm`` the same with Airflow and the standard operators imported first (what is left is the DAG
                    file's own cost: the provider's modules and building the DAG);
``isolate FILE``    import FILE with sockets blocked and Connection look-ups and provider-registry start-up
                    recorded, and list the modules the import loaded.
"""

from __future__ import annotations

import json
import runpy
import socket
import sys
import time


def _warm() -> None:
    import pendulum  # noqa: F401
    from airflow.providers.standard.operators.python import PythonOperator  # noqa: F401
    from airflow.sdk import DAG, BaseOperator, BaseSensorOperator, Param  # noqa: F401


def _time(path: str, warm: bool) -> dict[str, object]:
    if warm:
        _warm()
    start = time.perf_counter()
    namespace = runpy.run_path(path)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "tasks": len(namespace["dag"].task_dict)}


def _isolate(path: str) -> dict[str, object]:
    touched: list[str] = []

    def refuse(what: str):
        def blocked(*args: object, **kwargs: object) -> None:
            touched.append(what)
            raise OSError(f"benchmark: {what} is blocked while importing a DAG file")

        return blocked

    socket.socket.connect = refuse("socket.connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse("socket.connect_ex")  # type: ignore[method-assign]
    socket.create_connection = refuse("socket.create_connection")  # type: ignore[assignment]
    socket.getaddrinfo = refuse("socket.getaddrinfo")  # type: ignore[assignment]

    from airflow import providers_manager
    from airflow.sdk import providers_manager_runtime
    from airflow.sdk.definitions.connection import Connection

    Connection.get = classmethod(refuse("Connection.get"))  # type: ignore[method-assign,assignment]
    for cls in (providers_manager.ProvidersManager, providers_manager_runtime.ProvidersManagerTaskRuntime):
        original = cls.__init__

        def init(self: object, *args: object, _original=original, _name=cls.__name__, **kwargs: object) -> None:
            touched.append(f"{_name}()")
            _original(self, *args, **kwargs)

        cls.__init__ = init  # type: ignore[method-assign]

    _warm()
    before = set(sys.modules)
    namespace = runpy.run_path(path)
    loaded = sorted(set(sys.modules) - before)
    return {"touched": touched, "tasks": len(namespace["dag"].task_dict), "loaded": loaded}


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    result = _isolate(path) if mode == "isolate" else _time(path, "--warm" in sys.argv)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
