"""The shared base every layer imports: errors, the content-addressed store and atomic writes, action keys,
timeline maths, and the spec models. It imports nothing else from this project."""
