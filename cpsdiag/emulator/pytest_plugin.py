"""pytest plugin: virtual CPS cards for the tests of any software that uses smart cards.

Installing cpsdiag registers it (entry point ``pytest11``). It does nothing in
a session that does not ask for its fixtures:

* ``virtual_card``: a card in a virtual reader for the test (default profile
  ``cps3-medecin``; ``@pytest.mark.virtual_card("cps4-infirmier")`` or a
  profile folder chooses another). It has ``reader``, ``atr``, ``pin``,
  ``card_number``, ``generation``, ``profile`` (folder), ``certificates``
  (``"authentication"``/``"signature"`` -> cryptography certificate),
  ``anchors``, ``env``, ``remove()``, ``insert()`` and ``log()``.
* ``virtual_card_factory``: ``virtual_card_factory("cpe-etablissement")``
  puts one more card in another reader (ini option ``virtual_card_readers``,
  default 4 readers).

pcscd is started once per session (after collection, when a collected test
uses a fixture), without root where the kernel allows user namespaces, and
stopped at the end; each test's cards are removed after it. PC/SC clients of
the test process and of its subprocesses see the cards: the session sets
``PCSCLITE_CSOCK_NAME``, which libpcsclite reads once per process, so a PC/SC
call made before that (at import time, during collection) would stay with
the machine's pcscd. SIGTERM and SIGHUP end the session as Ctrl-C does, so
every process and temporary folder goes with it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .service import VirtualCard, VirtualReaders

DEFAULT_PROFILE = "cps3-medecin"
FIXTURES = ("virtual_card", "virtual_card_factory")
_KEY = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("virtual_card_readers", "number of virtual card readers (cpsdiag), for virtual_card_factory",
                  default="4")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "virtual_card(profile): the profile of the virtual_card fixture's card, "
                                       "a shipped profile name or a profile folder (cpsdiag)")
    config.stash[_KEY] = {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    # After every other plugin has deselected (-k, -m): start pcscd only for a session that will use it, and
    # before any test runs, so that every PC/SC client of this process meets the same pcscd.
    if config.option.collectonly or not any(set(FIXTURES) & set(getattr(item, "fixturenames", ()))
                                            for item in items):
        return
    _start(config)


def _start(config: pytest.Config) -> None:
    from cpsdiag.errors import CpsdiagError
    from cpsdiag.stopping import stop_on_signals

    from .service import VirtualReaders
    from .stack import StackError

    state = config.stash[_KEY]
    if "service" in state or "error" in state:
        return
    try:
        readers = int(config.getini("virtual_card_readers"))
    except ValueError:
        state["error"] = "ini option virtual_card_readers: not a number"
        return
    # Ctrl-C already ends a session cleanly (KeyboardInterrupt); SIGTERM and SIGHUP would kill it on the spot.
    signals = stop_on_signals(_exit_pytest, (signal.SIGTERM, signal.SIGHUP))
    signals.__enter__()
    state["signals"] = signals
    service = VirtualReaders(readers=max(1, readers), say=lambda text: state.setdefault("said", []).append(text))
    try:
        service.start()
    except (StackError, CpsdiagError) as exc:
        state["error"] = str(exc)
        return
    state["service"] = service


def _exit_pytest(signum: int) -> BaseException:
    # pytest's own way out: the session ends, fixtures are torn down, pytest_unconfigure runs.
    return pytest.exit.Exception(f"stopped by {signal.Signals(signum).name}", returncode=128 + signum)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_KEY, {})
    try:
        service = state.pop("service", None)
        if service is not None:
            service.close()
    finally:
        signals = state.pop("signals", None)
        if signals is not None:
            signals.__exit__(None, None, None)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """Say which pcscd the virtual cards use (the machine's, when no private one could be started)."""
    state = config.stash.get(_KEY, {})
    return [f"cpsdiag virtual cards: {text}" for text in state.get("said", [])]


def _service(config: pytest.Config) -> VirtualReaders:
    state = config.stash[_KEY]
    if "service" not in state and "error" not in state:
        _start(config)          # a fixture requested dynamically (request.getfixturevalue)
    if "error" in state:
        pytest.fail(f"virtual card readers unavailable: {state['error']}", pytrace=False)
    service: VirtualReaders = state["service"]
    return service


@pytest.fixture
def virtual_card_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``make(profile="cps3-medecin", reader=None)`` inserts a card in a free virtual reader; all leave after the test."""
    from cpsdiag.errors import CpsdiagError

    from .stack import StackError

    service = _service(request.config)
    made: list[Any] = []

    def make(profile: str | os.PathLike[str] = DEFAULT_PROFILE, reader: str | None = None) -> VirtualCard:
        try:
            card = service.card(profile, reader)
        except (CpsdiagError, StackError) as exc:     # a bad profile, no free reader, an unwritable PKI cache
            pytest.fail(f"virtual card: {exc}", pytrace=False)
        made.append(card)
        return card.insert()

    yield make
    errors = []
    for card in made:
        try:
            service.discard(card)
        except Exception as exc:        # remove every card even if one misbehaves
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def virtual_card(request: pytest.FixtureRequest, virtual_card_factory: Callable[..., Any]) -> Any:
    """A virtual card in a virtual reader; ``@pytest.mark.virtual_card("name-or-folder")`` chooses its profile."""
    marker = request.node.get_closest_marker("virtual_card")
    profile = marker.args[0] if marker is not None and marker.args else DEFAULT_PROFILE
    return virtual_card_factory(profile)
