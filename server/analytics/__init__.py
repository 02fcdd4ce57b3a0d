"""Analytics: per published video (views per day, retention by scene) and per brand (the last videos)."""
