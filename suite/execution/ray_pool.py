"""The Ray driver's warm actors: one :class:`~suite.execution.ray_node.NodeWorker` per slot, reused run after run.

A run takes an idle actor of its resources (CPUs, GPUs) or starts a new one. While a new actor waits for the
cluster to place it, the run takes the first actor of its resources that becomes idle instead (the new one is
killed), and idle actors of other resources are killed, since they may hold what the new one waits for: an
actor holds its resources while it lives, so a pool that only grew would wait forever on a full cluster. An
actor that died is dropped; :meth:`ActorPool.close` kills every actor (their warm workers die with them).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from suite.execution.ray_node import NodeWorker

PLACEMENT_POLL_SECONDS = 0.2
"""How often a run waiting for its new actor looks for an idle one instead."""

Resources = tuple[float, float]
"""(CPUs, GPUs) an actor asks of the cluster."""


@dataclass(eq=False)
class Actor:
    """One live actor of the pool and the resources it holds."""

    handle: Any
    resources: Resources


class ActorPool:
    """Hands out warm actors by resources; thread-safe (the executor launches from one thread per slot)."""

    def __init__(self, ray: Any) -> None:
        self._ray = ray
        self._remote = ray.remote(NodeWorker)
        self._idle: list[Actor] = []
        self._busy: set[Actor] = set()
        self._starting: set[Actor] = set()
        self._guard = threading.Lock()
        self._closed = False

    def checkout(self, resources: Resources) -> Actor | None:
        """An actor of ``resources`` for one run, started if none is idle; None once the pool is closed.

        Raises Ray's error when a new actor died before it was ready.
        """
        with self._guard:
            if self._closed:
                return None
            idle = self._take_idle(resources)
            if idle is not None:
                return idle
            actor = Actor(self._start(resources), resources)
            self._starting.add(actor)
        return self._wait_until_placed(actor)

    def checkin(self, actor: Actor, alive: bool) -> None:
        """Give ``actor`` back after a run: idle again if it is ``alive``, else dropped (and killed)."""
        with self._guard:
            self._busy.discard(actor)
            keep = alive and not self._closed
            if keep:
                self._idle.append(actor)
        if not keep:
            self._kill(actor)

    def close(self) -> None:
        """Kill every actor, idle, busy or starting; no actor is handed out from now on."""
        with self._guard:
            self._closed = True
            actors = [*self._idle, *self._busy, *self._starting]
            self._idle, self._busy, self._starting = [], set(), set()
        for actor in actors:
            self._kill(actor)

    def actors(self) -> list[Actor]:
        """Every actor the pool holds now (tests)."""
        with self._guard:
            return [*self._idle, *self._busy, *self._starting]

    def _start(self, resources: Resources) -> Any:
        """A new actor (not yet placed): never restarted, its runs never retried (a lost run resumes next time)."""
        cpus, gpus = resources
        return self._remote.options(num_cpus=cpus, num_gpus=gpus, max_restarts=0, max_task_retries=0).remote()

    def _wait_until_placed(self, actor: Actor) -> Actor | None:
        ready = actor.handle.ready.remote()
        while True:
            placed, _ = self._ray.wait([ready], timeout=PLACEMENT_POLL_SECONDS)
            with self._guard:
                closed = self._closed
                if closed or placed:
                    self._starting.discard(actor)
                    if not closed:
                        self._busy.add(actor)
                    break
                instead = self._take_idle(actor.resources)
                if instead is not None:
                    self._starting.discard(actor)
                blocking = [idle for idle in self._idle if idle.resources != actor.resources]
                self._idle = [idle for idle in self._idle if idle.resources == actor.resources]
            if instead is not None:
                self._kill(actor)
                return instead
            for idle in blocking:
                self._kill(idle)
        if closed:
            self._kill(actor)
            return None
        try:
            self._ray.get(ready)
        except Exception:
            self.checkin(actor, alive=False)
            raise
        return actor

    def _take_idle(self, resources: Resources) -> Actor | None:
        """An idle actor of ``resources`` made busy (call with the guard held)."""
        for actor in self._idle:
            if actor.resources == resources:
                self._idle.remove(actor)
                self._busy.add(actor)
                return actor
        return None

    def _kill(self, actor: Actor) -> None:
        try:
            self._ray.kill(actor.handle, no_restart=True)
        except Exception:  # noqa: BLE001 - best effort: the actor may be gone already
            pass
