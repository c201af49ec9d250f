"""Typed models of CI and COS requests, responses and callbacks (curated exports are added per family)."""
