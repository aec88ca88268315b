"""A local stand-in for Adobe IMS and Flow Service, speaking their wire format."""

from .server import Emulator, Fault

__all__ = ["Emulator", "Fault"]
