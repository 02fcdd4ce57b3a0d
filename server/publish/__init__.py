"""Publishing from the studio: the dry run of exactly what would be sent, and publish jobs with live progress."""
