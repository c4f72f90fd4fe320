"""cocotb-on-Verilator verification of the generated RTL against the model (placeholder)."""
