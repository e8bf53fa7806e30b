"""The back office: programme staff's pages and API, behind authentication."""
