"""Generators of the ``pim`` template: one near-bank processing unit and its command sequencer.

``config`` (what to build, by the model's rule), ``unit`` (GRF, MAC lanes from :mod:`archmodel.rtl.pe`,
accumulators, result port), ``sequencer`` (ACT / MAC-column / PRE command stream), ``slice`` (the
two wired together: the generated top), ``model`` (behavioural model of the slice), ``sim``
(Amaranth-simulator driver with a plain bank array), ``emit`` (Verilog, filelist, manifest). The cycle
count lives in :mod:`archmodel.dataflow.pim_rtl_schedule`. Amaranth is imported by the submodules
only, so importing this package stays cheap.
"""
