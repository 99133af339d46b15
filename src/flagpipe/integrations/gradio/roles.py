"""Which components are inputs and which are outputs: from an Interface, from a Blocks app's events."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from gradio.components import Component

    from flagpipe.core.event import Role

    from ._compat import Handler, InterfaceComponents

__all__ = ["fallback_role", "interface_roles", "is_button", "roles_from_events"]


def interface_roles(components: Sequence[Component], interface: InterfaceComponents | None) -> list[Role] | None:
    """When ``components`` are an Interface's inputs then outputs (or its inputs alone), their roles; else None.

    :param interface: the components of the Interface that called ``setup``, or None for a Blocks app.
    """
    if interface is None:
        return None
    inputs, outputs = list(interface.inputs), list(interface.outputs)
    if _same(components, inputs + outputs):
        roles: list[Role] = ["input"] * len(inputs)
        return roles + ["output"] * len(outputs)
    if _same(components, inputs):
        only_inputs: list[Role] = ["input"] * len(inputs)
        return only_inputs  # a unified interface flags its inputs only
    return None


def roles_from_events(handlers: Iterable[Handler], components: Sequence[Component]) -> dict[int, Role]:
    """Roles from the app's Python event handlers, keyed by ``id(component)``.

    A component is an input when some handler reads it to produce another component's value, an
    output when a handler writes it and none reads it that way. Buttons as outputs (a Flag button's
    "Saving...") do not count; JavaScript-only handlers (Clear) are not among ``handlers``.
    """
    fed: set[int] = set()
    produced: set[int] = set()
    for handler in handlers:
        outputs = [o for o in handler.outputs if not is_button(o)]
        for item in handler.inputs:
            if any(o is not item for o in outputs):
                fed.add(id(item))
        produced.update(id(o) for o in outputs)
    roles: dict[int, Role] = {}
    for component in components:
        if id(component) in fed:
            roles[id(component)] = "input"
        elif id(component) in produced:
            roles[id(component)] = "output"
    return roles


def fallback_role(component: Component) -> Role:
    """The role of a component no event decides: ``output`` when built with ``interactive=False``."""
    return "output" if getattr(component, "interactive", None) is False else "input"


def is_button(component: object) -> bool:
    """Whether a component is some kind of button (``Button``, ``UploadButton``, ``ClearButton``...)."""
    return any(cls.__name__.endswith("Button") for cls in type(component).__mro__)


def _same(components: Sequence[Component], expected: Sequence[Component]) -> bool:
    return len(components) == len(expected) and all(a is b for a, b in zip(components, expected, strict=True))
