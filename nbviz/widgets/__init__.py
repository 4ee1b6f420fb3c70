"""Jupyter widgets: traitlets, threads and binary messages around the engines; no maths here."""
