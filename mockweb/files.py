"""Writing spend files the way councils do: header families, value styles, CSV/XLSX/ODS/PDF bytes.

Every writer returns bytes and is deterministic (fixed timestamps inside zip containers).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

import openpyxl

#: Header families: (published header, canonical field). Canonical fields are spend columns,
#: plus a few a parser may ignore (body, body_uri, invoice_number, expense_code, card_transaction).
FAMILIES: dict[str, tuple[tuple[str, str], ...]] = {
    "guidance": (
        ("Body Name", "body"),
        ("Date", "payment_date"),
        ("Transaction Number", "transaction_id"),
        ("Invoice Number", "invoice_number"),
        ("Amount", "amount"),
        ("Irrecoverable VAT", "irrecoverable_vat"),
        ("Supplier Name", "supplier_name"),
        ("Supplier ID", "supplier_id_published"),
        ("Expense Area", "service_area"),
        ("Expense Type", "expense_type"),
        ("Expense Code", "expense_code"),
    ),
    "lga": (
        ("OrganisationLabel", "body"),
        ("OrganisationURI", "body_uri"),
        ("OrganisationalUnit", "department"),
        ("BeneficiaryName", "supplier_name"),
        ("BeneficiaryOtherID", "supplier_id_published"),
        ("CompaniesHouseRegistrationNumber", "company_number_published"),
        ("CharityCommissionNumber", "charity_number_published"),
        ("PaymentDate", "payment_date"),
        ("TransactionNumber", "transaction_id"),
        ("Amount", "amount"),
        ("IrrecoverableVATAmount", "irrecoverable_vat"),
        ("Purpose", "purpose"),
        ("CategoryInternalName", "expense_type"),
    ),
    "calderdale": (
        ("Body", "body_uri"),
        ("Organisation Name", "body"),
        ("Date", "payment_date"),
        ("Internal Ref Number", "transaction_id"),
        ("Net Amount", "amount"),
        ("Irrecoverable VAT", "irrecoverable_vat"),
        ("Supplier(Beneficiary) Name", "supplier_name"),
        ("Supplier Registered Company Number", "company_number_published"),
        ("Supplier Registered Charity Number", "charity_number_published"),
        ("Supplier ID", "supplier_id_published"),
        ("Expense Area", "service_area"),
        ("Expense Code", "expense_code"),
        ("Expense Type", "expense_type"),
        ("Purpose of Spend (Summary)", "purpose"),
    ),
    "directorate": (
        ("Directorate", "department"),
        ("Service Area", "service_area"),
        ("Expense Type", "expense_type"),
        ("Payment Date", "payment_date"),
        ("Supplier Name", "supplier_name"),
        ("Transaction No.", "transaction_id"),
        ("Net Amount (£)", "amount"),
        ("Irrecoverable VAT (£)", "irrecoverable_vat"),
        ("Narrative", "purpose"),
    ),
    "wakefield": (
        ("Organisation Name", "body"),
        ("Directorate", "department"),
        ("Service (Sercop)", "service_area"),
        ("Supplier Name", "supplier_name"),
        ("Supplier ID", "supplier_id_published"),
        ("Company Registration", "company_number_published"),
        ("Charity Registration", "charity_number_published"),
        ("Payment Date", "payment_date"),
        ("Transaction Number", "transaction_id"),
        ("Net Amount", "amount"),
        ("Irrecoverable VAT", "irrecoverable_vat"),
        ("Purpose of Spend", "purpose"),
        ("Expenditure Type", "expense_type"),
    ),
    # A new finance system's export that lost the department column.
    "erp_no_department": (
        ("Payment Date", "payment_date"),
        ("Supplier Name", "supplier_name"),
        ("Ref No.", "transaction_id"),
        ("Description", "purpose"),
        ("Expense Type", "expense_type"),
        ("Amount Paid", "amount"),
        ("VAT Irrecoverable", "irrecoverable_vat"),
    ),
    "gpc": (
        ("Transaction Date", "payment_date"),
        ("Merchant Name", "supplier_name"),
        ("Merchant Category", "merchant_category"),
        ("Amount", "amount"),
        ("Irrecoverable VAT", "irrecoverable_vat"),
        ("Cardholder Department", "department"),
        ("Description", "purpose"),
    ),
    "gpc_lga": (
        ("OrganisationLabel", "body"),
        ("OrganisationalUnit", "department"),
        ("BeneficiaryName", "supplier_name"),
        ("PaymentDate", "payment_date"),
        ("Amount", "amount"),
        ("IrrecoverableVATAmount", "irrecoverable_vat"),
        ("Purpose", "purpose"),
        ("MerchantCategory", "merchant_category"),
        ("CardTransaction", "card_transaction"),
    ),
    # A quarterly list of contracts awarded over £5,000 (Transparency Code).
    "contracts": (
        ("Contract Reference", "reference"),
        ("Contract Title", "title"),
        ("Description", "description"),
        ("Department", "department"),
        ("Supplier Name", "supplier_name"),
        ("Company Number", "company_number_published"),
        ("Contract Value", "value"),
        ("Irrecoverable VAT", "irrecoverable_vat"),
        ("Start Date", "start_date"),
        ("End Date", "end_date"),
        ("Review Date", "review_date"),
        ("Procurement Procedure", "procedure"),
        ("SME", "sme"),
        ("VCSE", "vcse"),
    ),
    "grants": (
        ("Identifier", "transaction_id"),
        ("Title", "purpose"),
        ("Currency", "currency"),
        ("Amount Awarded", "amount"),
        ("Award Date", "payment_date"),
        ("Recipient Org:Name", "supplier_name"),
        ("Recipient Org:Charity Number", "charity_number_published"),
        ("Recipient Org:Company Number", "company_number_published"),
        ("Funding Org:Name", "body"),
        ("Department", "department"),
    ),
}

#: Canonical columns that come from the published file (the rest are constants such as the body name).
SPEND_COLUMNS = frozenset(
    {
        "payment_date",
        "transaction_id",
        "amount",
        "irrecoverable_vat",
        "supplier_name",
        "supplier_id_published",
        "company_number_published",
        "charity_number_published",
        "department",
        "service_area",
        "expense_type",
        "purpose",
        "merchant_category",
    }
)

#: Canonical contracts columns that come from a published contracts register.
CONTRACT_COLUMNS = frozenset(f for _, f in FAMILIES["contracts"])

#: Transparency Code field <- canonical contracts columns that provide it. Stated again here, not imported from
#: normalise/compliance/rules.py: the answer key must not be computed by the code it checks.
CONTRACT_CODE_FIELDS: dict[str, tuple[str, ...]] = {
    "reference": ("reference",),
    "title": ("title",),
    "description": ("description", "title"),
    "department": ("department",),
    "supplier": ("supplier_name",),
    "supplier_registration_number": ("company_number_published", "charity_number_published"),
    "value": ("value",),
    "irrecoverable_vat": ("irrecoverable_vat",),
    "start_date": ("start_date",),
    "end_date": ("end_date",),
    "review_date": ("review_date",),
    "procedure": ("procedure",),
    "sme_vcse": ("sme", "vcse"),
}

#: Transparency Code field <- canonical columns that provide it (COMPLIANCE_RULES.md).
CODE_FIELDS: dict[str, tuple[str, ...]] = {
    "date": ("payment_date",),
    "department": ("department", "service_area"),
    "beneficiary": ("supplier_name",),
    "purpose": ("purpose", "expense_type"),
    "amount": ("amount",),
    "irrecoverable_vat": ("irrecoverable_vat",),
    "merchant_category": ("merchant_category", "expense_type"),
}


def missing_code_fields(columns: set[str], fields: dict[str, tuple[str, ...]] = CODE_FIELDS) -> list[str]:
    """Transparency Code fields none of ``columns`` provides, sorted.

    >>> missing_code_fields({"payment_date", "supplier_name", "amount", "expense_type"})
    ['department', 'irrecoverable_vat']
    """
    return sorted(f for f, sources in fields.items() if not columns.intersection(sources))


@dataclass(frozen=True)
class Style:
    """How one council writes values."""

    date: str  # dmy | iso | dmony
    amount: str  # plain | comma | pound
    encoding: str  # utf-8 | utf-8-sig | cp1252
    newline: str  # "\r\n" | "\n"
    title: bool  # a title row and a blank row above the header


def format_date(d: date, style: str) -> str:
    """A date as a council writes it.

    >>> [format_date(date(2025, 3, 12), s) for s in ("dmy", "iso", "dmony")]
    ['12/03/2025', '2025-03-12', '12-Mar-2025']
    """
    if style == "iso":
        return d.isoformat()
    if style == "dmony":
        return d.strftime("%d-%b-%Y")
    return d.strftime("%d/%m/%Y")


def format_amount(value: Decimal, style: str) -> str:
    """An amount as a council writes it.

    >>> [format_amount(Decimal("-1234.5"), s) for s in ("plain", "comma", "pound")]
    ['-1234.50', '-1,234.50', '-£1,234.50']
    """
    if style == "plain":
        return f"{value:.2f}"
    text = f"{abs(value):,.2f}"
    if style == "pound":
        text = "£" + text
    return ("-" if value < 0 else "") + text


def text_cells(record: dict, fields: list[str], style: Style) -> list[str]:
    """One record as the strings of a CSV row."""
    out = []
    for f in fields:
        value = record.get(f)
        if value is None:
            out.append("")
        elif isinstance(value, bool):
            out.append("Yes" if value else "No")
        elif isinstance(value, date):
            out.append(format_date(value, style.date))
        elif isinstance(value, Decimal):
            out.append(format_amount(value, style.amount))
        else:
            out.append(str(value))
    return out


def typed_cells(record: dict, fields: list[str]) -> list:
    """One record as spreadsheet cells: real dates and numbers."""
    out = []
    for f in fields:
        value = record.get(f)
        if isinstance(value, date):
            out.append(datetime(value.year, value.month, value.day))
        elif isinstance(value, Decimal):
            out.append(float(value))
        else:
            out.append("" if value is None else value)
    return out


def csv_bytes(rows: list[list[str]], style: Style) -> bytes:
    """Rows (title, header and data) as CSV bytes in the council's encoding."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator=style.newline).writerows(rows)
    return buf.getvalue().encode(style.encoding)


_FIXED = (2026, 1, 1, 0, 0, 0)


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry's timestamp fixed, so output is byte-identical between runs."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            dst.writestr(fixed, data)
    return out.getvalue()


def xlsx_bytes(rows: list[list], sheet: str) -> bytes:
    """Rows as an XLSX workbook with one sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "DD/MM/YYYY"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.00"
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_cell(value) -> str:
    if isinstance(value, datetime):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.date().isoformat()}">'
            f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>"
        )
    if isinstance(value, float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value:,.2f}</text:p></table:table-cell>"
        )
    if value in ("", None):
        return "<table:table-cell/>"
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def ods_bytes(rows: list[list], sheet: str) -> bytes:
    """Rows as an OpenDocument spreadsheet with one sheet (typed dates and numbers)."""
    body = "".join("<table:table-row>" + "".join(map(_ods_cell, row)) + "</table:table-row>" for row in rows)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {_ODS_NS}><office:body>'
        f'<office:spreadsheet><table:table table:name="{escape(sheet)}">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    styles = f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-styles {_ODS_NS}/>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", _FIXED), "application/vnd.oasis.opendocument.spreadsheet")
        for name, text in (("META-INF/manifest.xml", _ODS_MANIFEST), ("content.xml", content), ("styles.xml", styles)):
            z.writestr(zipfile.ZipInfo(name, _FIXED), text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(title: str, lines: list[str]) -> bytes:
    """A plain text report as a PDF (Helvetica, 60 lines a page): what councils publish beside CSVs."""
    per_page = 60
    pages = [lines[i : i + per_page] for i in range(0, max(len(lines), 1), per_page)] or [[]]
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for i, page in enumerate(pages):
        body = ["BT /F1 7 Tf 30 810 Td 9 TL", f"({_pdf_escape(title)}) Tj T*"]
        body += [f"({_pdf_escape(line)}) Tj T*" for line in page]
        body.append("ET")
        stream = "\n".join(body).encode("latin-1", "replace")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
