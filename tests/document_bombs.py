"""Hostile .docx files for the document-reading tests: real Word packages whose body is huge.

``docx_bomb(70)`` is a 250 KB .docx whose word/document.xml is 70 MB of repeated paragraphs
(python-docx took 110 s and 840 MB of memory to read one before it was refused);
``lying_docx`` is the same bomb with its zip directory claiming the body is small.
"""

from __future__ import annotations

import io
import struct
import zipfile

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>")
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>")
PARAGRAPH = "<w:p><w:r><w:t>Budget approved by the CFO for the pilot.</w:t></w:r></w:p>"


def docx_bomb(xml_mb: float) -> bytes:
    """A .docx whose body is ``xml_mb`` MB of one paragraph repeated (deflate packs it ~290:1)."""
    body = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            + PARAGRAPH * int(xml_mb * 1024 * 1024 / len(PARAGRAPH)) + "</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES)
        package.writestr("_rels/.rels", RELS)
        package.writestr("word/document.xml", body)
    return out.getvalue()


def lying_docx(xml_mb: float, declared_bytes: int) -> bytes:
    """:func:`docx_bomb` with the body's uncompressed size rewritten to ``declared_bytes`` in both
    its local header and the central directory (so the directory checks pass)."""
    data = bytearray(docx_bomb(xml_mb))
    member = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    data[member.header_offset + 22:member.header_offset + 26] = struct.pack("<I", declared_bytes)
    entry = data.find(b"PK\x01\x02")  # the central directory entries follow the members' data
    while data[entry + 46:entry + 46 + len(member.filename)] != member.filename.encode():
        entry = data.find(b"PK\x01\x02", entry + 4)
    data[entry + 24:entry + 28] = struct.pack("<I", declared_bytes)
    return bytes(data)
