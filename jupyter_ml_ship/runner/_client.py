"""The runner's kernel client: jupyter_client's, without its fixed waits at kernel start.

Two waits of ``AsyncKernelClient`` cost a trivial run more than half of its time, idle:

- a socket connected before the kernel has bound its unix socket retries after zmq's default
  reconnect interval of 100 ms (the early kernel is still starting when papermill connects);
- ``wait_for_ready`` ends by reading IOPub until it has been silent for 0.2 s, every time.

Here reconnection is retried every 10 ms, and readiness is what jupyter_client checks before that
final wait: a ``kernel_info_reply`` on the shell channel and a message on IOPub (which proves the
IOPub subscription is live, so no output of the first cell can be lost). Messages already queued
on IOPub are dropped as before; nbclient ignores any later one that answers no cell of its own.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous.client import AsyncKernelClient

RECONNECT_IVL_MS = 10


class PromptKernelClient(AsyncKernelClient):
    def _context_default(self) -> zmq.asyncio.Context:
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            self.kernel_info()
            try:
                reply: dict[str, Any] = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if reply["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass  # IOPub not subscribed yet: ask again
                    else:
                        self._handle_kernel_info_reply(reply)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
        while True:  # what is queued now, without waiting for more
            try:
                await self.iopub_channel.get_msg(timeout=0)
            except Empty:
                break
