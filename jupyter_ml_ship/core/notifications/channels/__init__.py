"""The built-in channels, one module each; ``registry.Channels`` registers every ``Channel``
subclass defined in a module of this package under its ``name``."""
