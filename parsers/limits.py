"""Safety limits for reading one mail's attachments, all levels of nesting together."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Safety limits for reading one mail's attachments (all levels of nesting together).

    `unpack` enforces the archive limits for one call; the caller passes what is left of the
    mail's budget. The last fields are enforced around the parsers: the workbook bounds by
    `parsers.workbook_size` before a reader loads a workbook, the MIME parts by `parsers.mime`, the
    time and memory by the child process the application reads attachments in.
    """

    max_total_bytes: int = 100 * 1024 * 1024  # everything extracted, all attachments together
    max_member_bytes: int = 50 * 1024 * 1024  # one extracted file
    max_ratio: float = 200.0  # extracted / compressed size of one member
    max_members: int = 1000  # archive entries, all archives together
    max_depth: int = 3  # archives inside archives (the attachment itself is level 0)
    # The ratio is judged only past this many extracted bytes: small, very regular files
    # (an empty sheet, a text of spaces) compress far better than 200:1 and are harmless.
    ratio_floor_bytes: int = 1024 * 1024
    max_parts: int = 700  # MIME parts of one mail read (more: the rest is not read)
    # Lines of one mail parsed (more: the rest is not read). The MIME parser holds every line as
    # an object of ~70 bytes, so a 13 MB mail of empty lines cost 570 MB; a 40 MiB mail of
    # base64 wrapped at 76 has 550,000 lines.
    max_mail_lines: int = 1_000_000
    max_workbook_xml_bytes: int = 32 * 1024 * 1024  # a workbook's XML parts, inflated
    max_workbook_cells: int = 200_000  # cells of all sheets (a real form has a few thousand)
    max_workbook_strings: int = 200_000  # entries of the shared-string table
    max_parse_seconds: float = 10.0  # CPU seconds for reading one mail's attachments
    max_parse_memory: int = 256 * 1024 * 1024  # memory the reading may add to its process
    # Hash rounds an encrypted OOXML file may ask for to derive its key from a password. Excel
    # writes 100,000; ten times that still ends in about a second per password tried, while the
    # 10,000,000 the format allows would spend the mail's whole CPU budget on one try.
    max_office_spin_count: int = 1_000_000
