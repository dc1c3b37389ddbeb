"""Reading the firm's documents (AI3): files and web pages turned into text for the chunker.

An adapter package: pypdf, python-docx, selectolax, pypdfium2 and Tesseract (a program, where
installed) for the formats, httpx for web pages. Whatever goes wrong with one source is a
`SourceError` with a message an operator can act on; nothing here touches the database
(storage/knowledge.py stores what these readers return, one transaction per document).
"""
