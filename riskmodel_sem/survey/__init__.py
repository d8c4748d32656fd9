"""Survey concepts: the spec (YAML or lavaan syntax), answer scales, survey readers,
simulation from population values and the bundled data."""
