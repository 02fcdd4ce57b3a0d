"""Reviews: approve, request changes or reject a build, with reasons; the review history."""
