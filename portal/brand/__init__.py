"""The tenant's brand as the browser fetches it: its logo and its colours' style sheet."""
