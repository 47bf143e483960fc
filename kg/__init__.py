"""indicator-kg: performance target tables (绩效目标表) as a knowledge graph."""

__version__ = "0.1.0"
