"""The channels a notification can go out through, in one registry (papermill's engines and
translators are the model: a holder class, ``register``, entry points).

A channel is one class, usually in one file::

    class TeamsChannel(Channel):
        name = "teams"                      # the key in a notify rule, and Delivery.channel

        def send(self, ctx, target, notice):
            url = secret_url(target)            # the target is a secret's NAME, never the URL
            ...post notice.message...
            return {"http_status": 200}         # kept on the delivery

Built-in channels are the modules of ``core.notifications.channels`` (each module's ``Channel``
subclasses are registered under their ``name``: a new built-in channel is one new file there).
Other packages add theirs with an entry point in the group ``jupyter_ml_ship.channels``::

    [project.entry-points."jupyter_ml_ship.channels"]
    teams = "my_package.teams:TeamsChannel"

or at run time with ``channels.register("teams", TeamsChannel)``. The rule key of every
channel but ``email`` takes secret names (``notify_spec``), so the same validation holds.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from importlib.metadata import entry_points

from ...notify_spec import add_channel_key, remove_channel_key
from . import channels as _builtin
from .channel import Channel, DeliveryError, Notice

__all__ = ["ENTRY_POINTS", "Channel", "Channels", "DeliveryError", "Notice", "channels"]

#: the entry point group other packages register channels in
ENTRY_POINTS = "jupyter_ml_ship.channels"


class Channels:
    """The holder: channel name → channel class; built-ins first, then entry points."""

    def __init__(self) -> None:
        self._channels: dict[str, type[Channel]] = {}
        self._loaded = False

    def register(self, name: str, channel: type[Channel]) -> None:
        """Add (or replace) the channel called ``name``; its rule key is ``name``."""
        self._channels[name] = channel
        if channel.in_rules:
            add_channel_key(name)

    def unregister(self, name: str) -> None:
        """Forget a channel registered at run time (tests, a plugin being unloaded)."""
        self._channels.pop(name, None)
        remove_channel_key(name)

    def register_builtins(self) -> None:
        for mod in pkgutil.iter_modules(_builtin.__path__):
            module = importlib.import_module(f"{_builtin.__name__}.{mod.name}")
            for value in vars(module).values():
                if (isinstance(value, type) and issubclass(value, Channel) and value.name
                        and value.__module__ == module.__name__):
                    self.register(value.name, value)

    def register_entry_points(self) -> None:
        for ep in entry_points(group=ENTRY_POINTS):
            if ep.name not in self._channels:
                self.register(ep.name, ep.load())

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.register_builtins()
            self.register_entry_points()

    def get(self, name: str) -> Channel:
        """A channel by name; ``DeliveryError`` for one that no package registers (any more)."""
        self._load()
        if name not in self._channels:
            self.register_entry_points()  # installed since the first look
        try:
            return self._channels[name]()
        except KeyError:
            raise DeliveryError(f"unknown channel {name!r} (channels: "
                                f"{', '.join(sorted(self._channels))})") from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._channels)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


#: the registry every part of the service uses
channels = Channels()
