"""Equilibrium models, one sub-package each, all under the same contract (`landjax.contract`):
`claims` (Zuo, Hu & Li 2019), `urban_rural` (Cheng & Liu 2021), `quota_trade` (Ma & Ni),
`land_debt` (Zhao & Liu 2024). Each exports `Params`, `Options`, `residual`, `outcomes`,
`solve`, `sweep` (and `calibrate` where the paper calibrates) and uses only the public engine
API (`landjax.engine`)."""
