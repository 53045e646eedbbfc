"""Public research on occupations: ESCO and ISCO-08 labels, exposure datasets, and matching a person's words."""
