"""Reports: the story, the CX Code document, and table exports (CSV, Excel)."""
