"""Showrunner's compiler: load (YAML -> Spec), compile (Spec -> Plan), execute (Plan x Store)."""
