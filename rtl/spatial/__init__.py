"""Generators of the ``spatial`` template (FuseMax-style): the 1-D array's vector lanes.

``lane`` builds one fixed-point vector lane that runs every op of
:mod:`archmodel.pe.vector_spec` (the definition the cost model reads too) one step per cycle on one
multiplier; ``build`` holds the template's ``buildable`` rule. Amaranth is imported by the
submodules only, so importing this package stays cheap.
"""
