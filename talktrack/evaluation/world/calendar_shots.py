"""Calendar screenshots: the image a rep uploads to show that a meeting is booked (已预约).

A rep proves "appointment booked" with a phone or desktop screenshot of the calendar entry, not
with typed text. Each calendar invite of the world gets one: the meeting's date, start and end
time, the customer's company and contact, drawn with Pillow in one of several app layouts and
date/time formats of its language, then degraded the way forwarded screenshots are (downscaled,
noise, blur, a slight tilt, JPEG artefacts). ``truth.json`` keeps what was drawn (``fields``) and
how it was degraded, so OCR can be graded field by field.

The same renderer draws the doctored and borrowed screenshots an evaluation needs (another
customer's meeting, a date moved to a day without a meeting): :func:`render_screenshot` takes
any :class:`ShotFields`.

Fonts: Noto Sans/Serif CJK (Debian ``fonts-noto-cjk``, installed by ``make system-deps``), which
draw Latin and Chinese; only these are used, so a spec gives the same files on every machine.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from talktrack.evaluation.world.lexicon import lexicon
from talktrack.evaluation.world.spec import WorldSpec, child_rng

STEP_SCREENSHOTS = 55
FOLDER = "screenshots"
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/opentype"), Path("/usr/share/fonts"))
FONT_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", "NotoSerifCJK-Regular.ttc")
SC_FACE = 2  # index of the Simplified-Chinese face in a Noto CJK collection (JP, KR, SC, TC, HK)
WEEKDAYS_ZH = "一二三四五六日"


@dataclass(frozen=True)
class ShotFields:
    """What a calendar entry shows: the truth OCR is graded on."""

    day: date
    start: time
    end: time
    customer: str
    contact: str
    language: str  # en | zh
    channel: str = "phone"  # phone | video | visit
    organizer: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        return data | {"day": self.day.isoformat(), "start": self.start.strftime("%H:%M"),
                       "end": self.end.strftime("%H:%M")}


class FontsMissing(RuntimeError):
    """The Noto CJK fonts are not installed."""


@lru_cache(maxsize=1)
def font_files() -> tuple[Path, ...]:
    """The Noto CJK collections the renderer draws with (all of them, or an error saying what to install)."""
    found = []
    for name in FONT_FILES:
        path = next((d / name for d in FONT_DIRS if (d / name).is_file()), None)
        if path is None:
            path = next(iter(sorted(Path("/usr/share/fonts").rglob(name))), None) if Path("/usr/share/fonts").is_dir() \
                else None
        if path is None:
            raise FontsMissing(f"font {name} not found under {', '.join(map(str, FONT_DIRS))}: calendar screenshots "
                               "need Debian's fonts-noto-cjk (make system-deps, or apt-get install fonts-noto-cjk)")
        found.append(path)
    return tuple(found)


@lru_cache(maxsize=64)
def _font(index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_files()[index]), size, index=SC_FACE)


# -- how a date and a time are written ------------------------------------------------------------------
def date_text(day: date, language: str, style: int) -> str:
    if language == "zh":
        weekday = WEEKDAYS_ZH[day.weekday()]
        return (f"{day.year}年{day.month}月{day.day}日 星期{weekday}", f"{day.year}年{day.month}月{day.day}日（周{weekday}）",
                f"{day:%Y-%m-%d} 周{weekday}", f"{day.year}/{day.month}/{day.day} 周{weekday}")[style % 4]
    return (f"{day:%A}, {day:%B} {day.day}, {day.year}", f"{day:%a}, {day:%b} {day.day}, {day.year}",
            f"{day:%a} {day.day} {day:%B} {day.year}", f"{day:%Y-%m-%d} ({day:%a})")[style % 4]


def time_text(start: time, end: time, language: str, style: int) -> str:
    if style % 3 == 0:
        return f"{start:%H:%M} - {end:%H:%M}"
    if language == "zh":
        def half(t: time) -> str:
            return f"{'上午' if t.hour < 12 else '下午'}{(t.hour - 1) % 12 + 1}:{t.minute:02d}"
        return f"{half(start)} - {half(end)}" if style % 3 == 1 else f"{half(start)}至{end:%H:%M}"

    def twelve(t: time) -> str:
        return f"{(t.hour - 1) % 12 + 1}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"
    return f"{twelve(start)} - {twelve(end)}" if style % 3 == 1 else f"{twelve(start)} to {twelve(end)}".lower()


def _lines(fields: ShotFields, rng: np.random.Generator) -> list[tuple[str, int, bool]]:
    """(text, size step, bold) per line, top to bottom."""
    lex = lexicon(fields.language)
    channel = lex.CHANNELS.get(fields.channel, fields.channel)
    zh = fields.language == "zh"
    titles = ((f"{fields.customer} {fields.contact} {channel}", f"会议：{fields.customer}（{fields.contact}）",
               f"{channel}｜{fields.customer}")
              if zh else (f"{fields.contact} ({fields.customer})", f"{fields.customer}: {channel} with {fields.contact}",
                          f"Meeting - {fields.customer}"))
    title = titles[int(rng.integers(len(titles)))]
    when = [date_text(fields.day, fields.language, int(rng.integers(4))),
            time_text(fields.start, fields.end, fields.language, int(rng.integers(3)))]
    rows = [(title, 3, True), (when[0], 2, False), (when[1], 2, False)]
    if fields.contact not in title:
        rows.append(((f"参会人：{fields.contact}" if zh else f"Guests: {fields.contact}"), 1, False))
    if fields.organizer:
        rows.append(((f"组织者：{fields.organizer}" if zh else f"Organizer: {fields.organizer}"), 1, False))
    rows.append(((f"提醒：提前{int(rng.choice([5, 10, 15, 30]))}分钟" if zh
                  else f"Reminder: {int(rng.choice([5, 10, 15, 30]))} minutes before"), 1, False))
    return rows


# -- drawing and degrading ------------------------------------------------------------------------------
def render_screenshot(fields: ShotFields, rng: np.random.Generator) -> tuple[bytes, str, dict]:
    """``(file bytes, suffix, how it was drawn and degraded)`` of one calendar entry."""
    return render_rows(_lines(fields, rng), fields.language, rng)


def render_text(text: str, language: str, rng: np.random.Generator) -> tuple[bytes, str, dict]:
    """Any entry's lines drawn the same way (first line as the title): for entries written by hand."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return render_rows([(line, 3 if i == 0 else 2 if i < 3 else 1, i == 0) for i, line in enumerate(lines)],
                       language, rng)


def render_rows(rows: list[tuple[str, int, bool]], language: str, rng: np.random.Generator) -> tuple[bytes, str, dict]:
    """Rows of (text, size step, bold) drawn as a calendar app's entry, then degraded."""
    dark = rng.random() < 0.25
    paper, ink = ((32, 33, 36), (232, 234, 237)) if dark else ((255, 255, 255), (32, 33, 36))
    accent = tuple(int(v) for v in rng.choice([(26, 115, 232), (11, 128, 67), (217, 48, 37), (142, 36, 170)]))
    base, face = int(rng.integers(17, 25)), int(rng.integers(len(font_files())))
    heights = [int(base * (1 + 0.22 * step)) for _, step, _ in rows]
    longest = max(_font(1 if bold else face, size).getlength(text) for (text, _, bold), size in zip(rows, heights,
                                                                                                     strict=True))
    width = max(int(rng.integers(620, 820)), int(longest) + 70)
    height = 90 + sum(int(h * 1.9) for h in heights)
    image = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 44), fill=accent)
    draw.text((18, 10), "日历" if language == "zh" else "Calendar", font=_font(0, 20), fill=(255, 255, 255))
    draw.rectangle((18, 64, 26, height - 24), fill=accent)
    y = 62
    for (text, _, bold), size in zip(rows, heights, strict=True):
        draw.text((44, y), text, font=_font(1 if bold else face, size), fill=ink)
        y += int(size * 1.9)
    return _degrade(image, rng, dark)


def _degrade(image: Image.Image, rng: np.random.Generator, dark: bool) -> tuple[bytes, str, dict]:
    scale = float(rng.uniform(0.8, 1.0))
    tilt = float(rng.uniform(-1.2, 1.2))
    noise = float(rng.uniform(2.0, 12.0))
    blur = float(rng.uniform(0.0, 0.9))
    quality = int(rng.integers(35, 86))
    image = image.resize((int(image.width * scale), int(image.height * scale)), Image.Resampling.BILINEAR)
    image = image.rotate(tilt, resample=Image.Resampling.BICUBIC, expand=True,
                         fillcolor=(32, 33, 36) if dark else (255, 255, 255))
    if blur > 0.2:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0.0, noise, (image.height, image.width, 1))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue(), ".jpg", {"dark": dark, "scale": round(scale, 3), "tilt_deg": round(tilt, 2),
                                       "noise_sigma": round(noise, 2), "blur_radius": round(blur, 2),
                                       "jpeg_quality": quality}


# -- the world's calendar invites -----------------------------------------------------------------------
def write_screenshots(spec: WorldSpec, world, out_dir: Path) -> dict[str, dict]:
    """``spec.screenshots`` calendar invites, drawn at random, get a screenshot (``screenshots/EV-….jpg``;
    the evidence's ``path`` is set); returns the truth per evidence id: the fields drawn and the degradation.

    A subset, as ``audio`` is: reading one costs the OCR engine about a second."""
    calls = {c.call_id: c for c in world.calls}
    deals = {d.deal_id: d for d in world.deals}
    customers = {c.customer_id: c for c in world.customers}
    reps = {r.rep_id: r for r in world.reps}
    invites = [e for e in world.evidence if e.kind == "calendar" and e.call_id in calls]
    chosen = child_rng(spec.seed, STEP_SCREENSHOTS).permutation(len(invites))[:spec.screenshots]
    truth = {}
    for index in sorted(int(i) for i in chosen):
        item = invites[index]
        call, deal = calls[item.call_id], deals[item.deal_id]
        fields = meeting_fields(call, customers[deal.customer_id], reps[deal.rep_id].name)
        data, suffix, degradation = render_screenshot(fields, child_rng(spec.seed, STEP_SCREENSHOTS, index + 1))
        (out_dir / FOLDER).mkdir(exist_ok=True)
        item.path = f"{FOLDER}/{item.evidence_id}{suffix}"
        (out_dir / item.path).write_bytes(data)
        truth[item.evidence_id] = {"deal_id": item.deal_id, "call_id": call.call_id, "path": item.path,
                                   "fields": fields.to_dict(), "degradation": degradation}
    return truth


def meeting_fields(call, customer, organizer: str) -> ShotFields:
    """The entry of the meeting that became ``call``: its start, booked for at least half an hour, its length rounded up to 15 minutes."""
    started: datetime = call.started_at
    minutes = max(30, -(-int(call.duration_s or 1800) // 900) * 15)
    return ShotFields(started.date(), started.time().replace(second=0, microsecond=0),
                      (started + timedelta(minutes=minutes)).time().replace(second=0, microsecond=0),
                      customer.name, customer.contacts[0].name, call.language, call.channel, organizer)
