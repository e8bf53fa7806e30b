"""Real-browser tests: Debian's Chromium via Playwright, pages found from the app's route table."""
