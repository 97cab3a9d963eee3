"""Image → text boxes (OCR) → every number+unit candidate (parser)."""
