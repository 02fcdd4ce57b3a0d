"""Clients of external services (LLM providers, HeyGen) and the one retry policy they share with publish/.

Imports flow one way: clients/ may import core/, never renderers/, compiler/ or publish/.
"""
