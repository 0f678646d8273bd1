"""The mock carrier's prepaid return labels: a one-page PDF that any viewer or printer opens."""

from __future__ import annotations

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points


def return_label_pdf(*, carrier: str, tracking_number: str, rma_number: str, sender: dict, recipient: dict,
                     items: list[str]) -> bytes:
    lines = [
        f"{carrier} - prepaid return label",
        f"Tracking number: {tracking_number}",
        f"Return: {rma_number}",
        "",
        "From:", *_address_lines(sender),
        "",
        "To:", *_address_lines(recipient),
        "",
        "Contents:", *items,
    ]
    return _one_page_pdf(lines)


def _address_lines(address: dict) -> list[str]:
    street = ", ".join(part for part in (address.get("line1"), address.get("line2")) if part)
    return [address["name"], street, f"{address['postal_code']} {address['city']}", address["country"]]


def _one_page_pdf(lines: list[str]) -> bytes:
    """A minimal PDF 1.4 with the lines in Helvetica; the cross-reference table needs each object's byte offset."""
    shown = " ".join(f"({_pdf_string(line)}) '" for line in lines)
    content = f"BT /F1 12 Tf 16 TL 50 {PAGE_HEIGHT - 50} Td {shown} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
        f"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    table_at = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table_at)
    return bytes(pdf)


def _pdf_string(text: str) -> str:
    """Text for a PDF string literal: Latin-1 (what Helvetica's encoding shows), with \\ ( ) escaped."""
    text = text.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
