"""Private helpers shared by renderers (browser, ffmpeg captions, narration, diffusers, manim, Remotion, script drafts).

Nothing here is a renderer; only modules in renderers/ import from here.
"""
