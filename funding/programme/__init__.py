"""The programme being funded, its budget periods and budget lines."""
