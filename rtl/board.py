"""A board top: the array behind a UART, so a two-pin board (RX, TX) can drive it.

Frames on the wire (8N1, LSB first, ``divisor`` clocks per bit):

* host -> board: one tag byte naming an input stream (its index in :meth:`BoardTop.inputs`: ``cmd``,
  ``a``, ``w``, then ``qp`` for grouped PEs), then that stream's payload in ``ceil(width / 8)`` bytes,
  least significant first. The payload is offered to the array (``valid``) until it takes it.
* board -> host: each output beat (``o``) as ``ceil(width / 8)`` bytes, least significant first.

Payload bits and beat order are the array's own contract (``rtl/INTERFACE.md``); the UART adds no
meaning. One byte at a time is slow (an INT8 4x4 beat of 32 bits is four bytes), but it needs nothing
on the board but a USB-serial bridge, which every iCE40 UltraPlus and ECP5 evaluation board has.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from .config import ArrayConfig
from .top import SystolicTop


class UARTRx(wiring.Component):
    """8N1 receiver: samples each bit in its middle; a byte not taken before the next is dropped."""

    def __init__(self, divisor: int) -> None:
        if divisor < 2:
            raise ValueError(f"UART divisor must be at least 2 clocks per bit, found {divisor}")
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "data": Out(stream.Signature(8))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        d = self.divisor
        rx = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, rx, init=1)
        timer = Signal(range(d + d // 2 + 1))
        bit = Signal(range(8))
        shreg = Signal(8)
        with m.If(self.data.ready):
            m.d.sync += self.data.valid.eq(0)
        with m.FSM():
            with m.State("idle"), m.If(~rx):
                m.d.sync += [timer.eq(d + d // 2 - 1), bit.eq(0)]  # to the middle of bit 0
                m.next = "data"
            with m.State("data"):
                with m.If(timer == 0):
                    m.d.sync += [shreg.eq(Cat(shreg[1:], rx)), timer.eq(d - 1), bit.eq(bit + 1)]
                    with m.If(bit == 7):
                        m.next = "stop"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("stop"):
                with m.If(timer == 0):
                    with m.If(rx):  # a good stop bit
                        m.d.sync += [self.data.payload.eq(shreg), self.data.valid.eq(1)]
                    m.next = "idle"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
        return m


class UARTTx(wiring.Component):
    """8N1 transmitter."""

    def __init__(self, divisor: int) -> None:
        self.divisor = divisor
        super().__init__({"data": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        shreg = Signal(10, init=0x3FF)
        left = Signal(range(11))
        timer = Signal(range(self.divisor))
        m.d.comb += [self.tx.eq(shreg[0]), self.data.ready.eq(left == 0)]
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [shreg.eq(Cat(0, self.data.payload, 1)), left.eq(10), timer.eq(self.divisor - 1)]
        with m.Elif(left != 0):
            with m.If(timer == 0):
                m.d.sync += [shreg.eq(Cat(shreg[1:], 1)), left.eq(left - 1), timer.eq(self.divisor - 1)]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m


def _bytes(width: int) -> int:
    return (width + 7) // 8


class BoardTop(wiring.Component):
    """The array of ``cfg`` behind a UART (``rx`` in, ``tx`` out); see the module doc for the frames."""

    def __init__(self, cfg: ArrayConfig, divisor: int = 104) -> None:
        self.cfg, self.divisor = cfg, divisor
        self.array = SystolicTop(cfg)
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1)})

    @property
    def inputs(self) -> list[tuple[str, Any]]:
        """Input streams in tag order: name and the array's port."""
        return [(n, getattr(self.array, n)) for n in ("cmd", "a", "w", "qp") if hasattr(self.array, n)]

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.array = arr = self.array
        m.submodules.uart_rx = urx = UARTRx(self.divisor)
        m.submodules.uart_tx = utx = UARTTx(self.divisor)
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx)]
        ins = self.inputs
        widths = [len(port.payload.as_value()) for _, port in ins]
        buf = Signal(8 * max(_bytes(w) for w in widths))
        tag = Signal(range(len(ins)))
        left = Signal(range(len(buf) // 8 + 1))
        offer = Signal()
        m.d.comb += urx.data.ready.eq(~offer)
        for i, (_, port) in enumerate(ins):
            m.d.comb += [port.payload.eq(buf[:widths[i]]), port.valid.eq(offer & (tag == i))]
        taken = Signal()
        m.d.comb += taken.eq(Cat(port.ready & (tag == i) for i, (_, port) in enumerate(ins)).any())
        with m.FSM():
            with m.State("tag"), m.If(urx.data.valid & (urx.data.payload < len(ins))):
                m.d.sync += tag.eq(urx.data.payload)
                with m.Switch(urx.data.payload):
                    for i, w in enumerate(widths):
                        with m.Case(i):
                            m.d.sync += left.eq(_bytes(w))
                m.next = "payload"
            with m.State("payload"), m.If(urx.data.valid):
                # bytes arrive LSB first: shift each in at the top of the stream's own width
                with m.Switch(tag):
                    for i, w in enumerate(widths):
                        with m.Case(i):
                            n = 8 * _bytes(w)
                            m.d.sync += buf[:n].eq(Cat(buf[8:n], urx.data.payload))
                m.d.sync += left.eq(left - 1)
                with m.If(left == 1):
                    m.d.sync += offer.eq(1)
                    m.next = "offer"
            with m.State("offer"), m.If(taken):
                m.d.sync += offer.eq(0)
                m.next = "tag"
        # output beats, least significant byte first
        o_width = len(arr.o.payload.as_value())
        obuf = Signal(8 * _bytes(o_width))
        o_left = Signal(range(_bytes(o_width) + 1))
        m.d.comb += [arr.o.ready.eq(o_left == 0), utx.data.payload.eq(obuf[:8]),
                     utx.data.valid.eq(o_left != 0)]
        with m.If(arr.o.valid & arr.o.ready):
            m.d.sync += [obuf.eq(arr.o.payload.as_value()), o_left.eq(_bytes(o_width))]
        with m.Elif(utx.data.valid & utx.data.ready):
            m.d.sync += [obuf.eq(obuf >> 8), o_left.eq(o_left - 1)]
        return m


__all__ = ["BoardTop", "UARTRx", "UARTTx"]
