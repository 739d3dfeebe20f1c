"""Rules: one module per rule, plus the analyses they share (names, sessions)."""
