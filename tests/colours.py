"""How far apart two colours look: CIEDE2000 (CIE's colour difference, ΔE00) between sRGB
colours, as seen with full colour vision and as simulated for the three kinds of dichromacy
(Machado, Oliveira & Fernandes 2009, severity 1, applied in linear RGB). A ΔE00 about 2 is just
noticeable side by side; two lines of a chart read as two series when they are tens apart."""

from __future__ import annotations

import itertools
import math
import re

# Machado et al. 2009, severity 1.0: linear RGB -> linear RGB as a dichromat sees it
VISIONS: dict[str, tuple[tuple[float, float, float], ...] | None] = {
    "full colour vision": None,
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}


def rgb(colour: str) -> tuple[float, float, float]:
    """'#1F7A6B', '#abc' or 'rgb(31, 122, 107)' as sRGB in 0..1."""
    c = colour.strip().lower()
    if m := re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*[\d.]+)?\)", c):
        r, g, b = (int(x) / 255 for x in m.groups())
        return r, g, b
    c = c.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    if not re.fullmatch(r"[0-9a-f]{6}", c):
        raise ValueError(f"not a colour: {colour!r}")
    return int(c[0:2], 16) / 255, int(c[2:4], 16) / 255, int(c[4:6], 16) / 255


def _linear(v: float) -> float:
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def _gamma(v: float) -> float:
    v = min(1.0, max(0.0, v))
    return 12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055


def seen(colour: str, vision: str) -> tuple[float, float, float]:
    """The sRGB colour as `vision` sees it."""
    matrix = VISIONS[vision]
    srgb = rgb(colour)
    if matrix is None:
        return srgb
    lin = [_linear(v) for v in srgb]
    r, g, b = (_gamma(sum(m * x for m, x in zip(row, lin, strict=True))) for row in matrix)
    return r, g, b


def lab(srgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """sRGB (0..1, D65) as CIE L*a*b*."""
    r, g, b = (_linear(v) for v in srgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIEDE2000 (Sharma, Wu & Dalal 2005), kL = kC = kH = 1."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dlp, dcp = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dhp = 0.0
    elif abs(h2p - h1p) <= 180:
        dhp = h2p - h1p
    else:
        dhp = h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360
    dhp_big = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dhp / 2))
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        hbp = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hbp = (h1p + h2p) / 2
    else:
        hbp = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hbp - 30))
        + 0.24 * math.cos(math.radians(2 * hbp))
        + 0.32 * math.cos(math.radians(3 * hbp + 6))
        - 0.20 * math.cos(math.radians(4 * hbp - 63))
    )
    d_theta = 30 * math.exp(-(((hbp - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cbp**7 / (cbp**7 + 25**7))
    sl = 1 + 0.015 * (lbp - 50) ** 2 / math.sqrt(20 + (lbp - 50) ** 2)
    sc = 1 + 0.045 * cbp
    sh = 1 + 0.015 * cbp * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt((dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp_big / sh) ** 2 + rt * (dcp / sc) * (dhp_big / sh))


def distance(c1: str, c2: str, vision: str = "full colour vision") -> float:
    """ΔE00 between two sRGB colours as `vision` sees them."""
    return delta_e2000(lab(seen(c1, vision)), lab(seen(c2, vision)))


def too_close(colours: dict[str, str], margins: dict[str, float]) -> list[str]:
    """Every pair of `colours` (name: colour) closer than the margin of a vision, in words."""
    out = []
    for (n1, c1), (n2, c2) in itertools.combinations(colours.items(), 2):
        for vision, margin in margins.items():
            d = distance(c1, c2, vision)
            if d < margin:
                out.append(f"{n1} ({c1}) and {n2} ({c2}): ΔE00 {d:.1f} < {margin:g} with {vision}")
    return out
