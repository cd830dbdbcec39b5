"""The benchmark corpus: 1,000 Japanese application mails of about 200 KB each.

    .venv/bin/python bench/corpus.py OUT_MAILDIR [--mails 1000] [--seed 2022]

Each mail is a submission built by examples/make_mailbox.py (`submission`, headers, RFC 2047 or
RFC 2231 file names) with the valid sample forms of examples/make_forms.py (`document_set`),
for a consortium of its own (names, leads and hosts vary). The mix:

- body charset: ISO-2022-JP 7bit (Outlook style) for 40 %, UTF-8 base64 for 45 %, UTF-8
  quoted-printable for 15 %;
- packaging: one plain zip of every document (make_forms.zip_bytes) for 40 %, the loose
  xlsx/pdf files for the rest;
- the 誓約書 PDFs are "sealed scans": each carries an incompressible scan image (an incremental
  PDF update that draws it on the page), which is what makes real submissions ~200 KB;
- 8 % miss a document (DOCUMENT_MISSING), 5 % have a `Fwd:` or full-width subject variant;
- arrivals (topmost Received:, and the INTERNALDATE when delivered over IMAP) spread over the
  application period in order.

Everything comes from one seed, so the same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import random
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "examples"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import make_forms  # noqa: E402
import make_mailbox as mm  # noqa: E402

PERIOD_START = datetime(2022, 8, 3, 9, 0, tzinfo=mm.JST)
PERIOD_DAYS = 37  # to 09-09, inside the default application period
# Mean scan bytes per 誓約書 (4 per submission): calibrated so that the mean mail is ~200 KB
# after base64 (about 4/3) on top of the ~40 KB of forms.
SCAN_MEAN_BYTES = 26_000

PLACES = ("札幌", "函館", "盛岡", "仙台", "山形", "郡山", "水戸", "宇都宮", "高崎", "川越",
          "千葉", "八王子", "横浜", "川崎", "新潟", "富山", "金沢", "福井", "甲府", "長野",
          "岐阜", "静岡", "浜松", "名古屋", "津", "大津", "京都", "大阪", "堺", "神戸",
          "姫路", "奈良", "和歌山", "鳥取", "松江", "岡山", "広島", "山口", "徳島", "高松",
          "松山", "高知", "北九州", "福岡", "佐賀", "長崎", "熊本", "大分", "宮崎", "鹿児島",
          "那覇")
THEMES = ("ものづくり", "観光", "食品流通", "物流", "小売", "商店街", "医療介護", "建設",
          "農業", "水産加工", "印刷", "繊維", "温泉旅館", "自動車部品", "木工家具")
SUFFIXES = ("DX連携コンソーシアム", "IT連携コンソーシアム", "デジタル連携協議会",
            "共創コンソーシアム", "データ連携コンソーシアム")
FIRMS = ("精工", "製作所", "商事", "工業", "物産", "フーズ", "ロジ", "ホテルズ", "建設", "産業")
FORMS = ("株式会社", "有限会社", "合同会社")
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
          "吉田", "山田", "佐々木", "松本", "井上", "木村", "林", "清水", "山崎", "森")
GIVEN = ("誠", "花子", "健一", "由紀", "聡", "亮", "美咲", "大輔", "陽子", "翔太")
TITLES = ("代表取締役", "取締役", "経営企画部 部長", "総務部 課長", "情報システム室 室長",
          "営業本部 本部長", "DX推進室 主任")


@dataclass(frozen=True)
class CorpusMail:
    n: int
    consortium: str
    charset: str  # ISO-2022-JP | UTF-8 | UTF-8-QP
    packaging: str  # zip | files
    arrival: datetime  # the topmost Received: (and the INTERNALDATE over IMAP)
    message_id: str
    raw: bytes


def consortium(n: int, rng: random.Random) -> mm.Consortium:
    """A consortium of its own for mail `n`: name, 幹事社 and its mail host all vary."""
    place, theme = rng.choice(PLACES), rng.choice(THEMES)
    name = f"{place}{theme}{rng.choice(SUFFIXES)}第{n}号"
    company = f"{rng.choice(FORMS)}{place}{rng.choice(FIRMS)}{n}"
    host = f"mail.firm{n}.example.jp"
    lead = mm.Person(company, rng.choice(TITLES), f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                     f"lead{n}@firm{n}.example.jp", f"0{rng.randrange(3, 99)}-"
                     f"{rng.randrange(100, 9999)}-{rng.randrange(1000, 9999)}", host)
    return mm.Consortium(name, lead, (company,))


def scanned_pdf(pdf: bytes, scan: bytes) -> bytes:
    """`pdf` (a make_forms.simple_pdf page) with `scan` drawn on its page as a JPEG image.

    Added as an incremental update (new objects, a new xref with /Prev), as scanners and PDF
    editors do, so the text layer of the original stays exactly where the parsers read it.
    """
    previous = re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf)
    if previous is None or b"3 0 obj\n<< /Type /Page " not in pdf:
        raise ValueError("not a make_forms.simple_pdf document")
    out = io.BytesIO()
    out.write(pdf)
    offsets: dict[int, int] = {}

    def obj(number: int, body: bytes) -> None:
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    draw = b"q 400 0 0 560 98 120 cm /Im1 Do Q"
    obj(8, b"<< /Type /XObject /Subtype /Image /Width 1654 /Height 2339 /ColorSpace /DeviceGray "
           b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % len(scan)
           + scan + b"\nendstream")
    obj(9, b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
           b"<< /F1 5 0 R >> /XObject << /Im1 8 0 R >> >> /Contents [9 0 R 4 0 R] >>")
    xref = out.tell()
    out.write(b"xref\n0 1\n0000000000 65535 f \n3 1\n%010d 00000 n \n8 2\n" % offsets[3])
    out.write(b"%010d 00000 n \n%010d 00000 n \n" % (offsets[8], offsets[9]))
    out.write(b"trailer\n<< /Size 10 /Root 1 0 R /Prev %s >>\nstartxref\n%d\n%%%%EOF\n"
              % (previous.group(1), xref))
    return out.getvalue()


def fake_jpeg(size: int, rng: random.Random) -> bytes:
    """Scan-like bytes: a JPEG frame around incompressible data (a scan does not deflate)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(max(size - 13, 0)) + b"\xff\xd9"


def documents(c: mm.Consortium, rng: random.Random, scan_mean: int = SCAN_MEAN_BYTES,
              ) -> dict[str, bytes]:
    """The sample forms for `c` (make_mailbox.document_set), 誓約書 as sealed scans."""
    mm.CONSORTIA[c.name] = c  # document_set looks the 幹事社 up by consortium name
    files = mm.document_set(c.name)
    pledges = [name for name in files if name.startswith("7_誓約書_")]
    # Sizes before contents: the sizes then scale with scan_mean alone (big_mail relies on it).
    sizes = [int(scan_mean * rng.uniform(0.6, 1.4)) for _ in pledges]
    for name, size in zip(pledges, sizes, strict=True):
        files[name] = scanned_pdf(files[name], fake_jpeg(size, rng))
    return files


def mail(n: int, rng: random.Random, arrival: datetime) -> CorpusMail:
    c = consortium(n, rng)
    files = documents(c, rng)
    if rng.random() < 0.08:
        files.pop(rng.choice(sorted(files)))  # one document forgotten: a deficiency notice
    packaging = "zip" if rng.random() < 0.4 else "files"
    if packaging == "zip":
        files = {f"応募書類一式_{c.name}.zip": make_forms.zip_bytes(files)}
    roll = rng.random()
    charset = "ISO-2022-JP" if roll < 0.4 else "UTF-8" if roll < 0.85 else "UTF-8-QP"
    subject = None
    if rng.random() < 0.05:
        subject = rng.choice((f"Fwd: <{c.name}>{mm.CORE}",
                              f"＜{c.name}＞　{mm.CORE}"))
    built = mm.submission(n, c, arrival, subject=subject, files=files,
                          charset="ISO-2022-JP" if charset == "ISO-2022-JP" else "UTF-8",
                          qp=charset == "UTF-8-QP")
    raw = mm.serialise(built.message)
    return CorpusMail(n, c.name, charset, packaging, arrival,
                      str(built.message["Message-ID"]), raw)


def one(seed: int, count: int, n: int) -> CorpusMail:
    """Mail `n` of `count`: its own random stream, so mails can be built in any order."""
    rng = random.Random(f"{seed}:{n}")
    step = timedelta(days=PERIOD_DAYS) / max(count, 1)
    arrival = PERIOD_START + step * (n - 1) + timedelta(seconds=rng.randrange(60))
    return mail(n, rng, arrival)


def generate(count: int, seed: int = 2022, workers: int | None = None) -> list[CorpusMail]:
    """`count` submissions, arrivals in order over the application period, built on
    `workers` processes (default: every CPU; openpyxl makes the forms slowly)."""
    work = partial(one, seed, count)
    if count < 20 or workers == 1:
        return [work(n) for n in range(1, count + 1)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(work, range(1, count + 1), chunksize=10)


def big_mail(target_bytes: int = 25 * 1024 * 1024, seed: int = 25) -> bytes:
    """One submission of `target_bytes` (±1 %): a zip of the forms with large scans, the kind
    of mail the program page asks applicants to split, but some will not."""
    c = consortium(99_999, random.Random(seed))

    def build(scan: int) -> bytes:
        files = documents(c, random.Random(seed), scan_mean=scan)
        files = {f"応募書類一式_{c.name}.zip": make_forms.zip_bytes(files)}
        return mm.serialise(mm.submission(99_999, c, PERIOD_START + timedelta(days=20),
                                          files=files).message)

    # The size is linear in the scan size (stored, base64): two probes give the line.
    low, high = 100_000, 1_000_000
    small, large = len(build(low)), len(build(high))
    scan = low + (target_bytes - small) * (high - low) // (large - small)
    raw = build(scan)
    if abs(len(raw) - target_bytes) > target_bytes // 100:
        raise RuntimeError(f"big mail is {len(raw):,} bytes, wanted {target_bytes:,}")
    return raw


def maildir_name(m: CorpusMail) -> str:
    return f"cur/{int(m.arrival.timestamp())}.M{m.n}P1.renkei-bench:2,S"


def write_maildir(mails: list[CorpusMail], target: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    for m in mails:
        (target / maildir_name(m)).write_bytes(m.raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="Maildir to write (created)")
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args(argv)
    mails = generate(args.mails, args.seed)
    write_maildir(mails, args.out)
    sizes = [len(m.raw) for m in mails]
    print(f"{len(mails)} mails, {sum(sizes) / 1e6:.1f} MB, mean {sum(sizes) / len(sizes) / 1e3:.0f} KB"
          f" (min {min(sizes) / 1e3:.0f}, max {max(sizes) / 1e3:.0f}) in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
