"""Previews: video states, the build queue, the file watcher and the video API."""
