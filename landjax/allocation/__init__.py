"""Allocation rules: bankruptcy (claims) rules for splitting a quota, and score-based quota
allocation rules with weights omega."""
