"""How einsums map onto a design: systolic (WS/OS/IS), PIM, spatial/fused; mapping search."""
