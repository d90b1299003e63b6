"""Equilibrium models, one per module: ``urban_rural`` (Cheng & Liu 2021), ``quota_trade``
(Ma & Ni), ``land_debt`` (Zhao & Liu 2024). Each exposes pure JAX residuals and outcomes and
uses only the public engine API (``landjax.engine``)."""
