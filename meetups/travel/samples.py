"""Small, valid receipt files made in code: for the demo data (and the tests), so that the review
screens show real images and PDFs without shipping binary files."""

import struct
import zlib


def receipt_png(width: int = 160, height: int = 220, *, lines: int = 9) -> bytes:
    """A greyscale PNG that looks like a till receipt: white paper with rows of grey "text"."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = []
    for y in range(height):
        line_index, offset = divmod(y - 20, 20)
        is_text = 0 <= line_index < lines and 4 <= offset < 10
        length = width - 40 - (line_index * 17) % 60
        row = bytearray([255] * width)
        if is_text:
            for x in range(20, 20 + length):
                row[x] = 90 if (x // 7) % 4 else 255
        if y in (8, height - 9):
            row = bytearray([200] * width)
        rows.append(b"\x00" + bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def _pdf_text(text: str) -> str:
    """Text for a PDF string in the standard Latin encoding (umlauts kept, the rest dropped)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return safe.encode("latin-1", "ignore").decode("latin-1")


def receipt_pdf(lines: list[str]) -> bytes:
    """A one-page A6 PDF with the given lines of text, readable by any PDF viewer."""
    text_ops = ["BT", "/F1 11 Tf", "14 TL", "24 380 Td"]
    for line in lines:
        text_ops.append(f"({_pdf_text(line)}) Tj T*")
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 420] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
