"""Test doubles that speak real HTTP (see ``fakes.github``).

Tests import these as ``import fakes.github`` with ``tests`` on ``sys.path``
(pytest ``pythonpath = ["tests"]``).
"""
