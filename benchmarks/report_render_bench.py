"""Time the evidence-report renderers on a large report.

300 evidence across 6 competences (2 blocks), 100 distinct 3000x2000 JPEG photos made with Pillow in a temp dir,
one photo attached to each of the first 100 evidence. Also times the XLSX on 9,000 evidence.

    python benchmarks/report_render_bench.py [--texture photo|noise]

"photo" (default) gives photo-like images (~2 MB each); "noise" gives incompressible worst-case images.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shopfloor.evidence.report import (ReportBlock, ReportCompetence, ReportData, ReportEvidence,  # noqa: E402
                                       ReportPhoto)
from shopfloor.evidence.report_render import render_docx, render_html, render_xlsx  # noqa: E402

W, H = 3000, 2000


def make_photo(path: Path, i: int, texture: str) -> None:
    rnd = random.Random(i)
    if texture == "noise":
        img = Image.merge("RGB", [Image.effect_noise((W, H), 60) for _ in range(3)])
    else:
        # a coloured gradient with fine colour noise on top: ~2 MB at quality 90, like a 6 Mpx phone photo
        base = Image.linear_gradient("L").resize((W, H)).rotate(rnd.randrange(360), expand=False)
        tint = Image.new("RGB", (W, H), (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
        grad = Image.merge("RGB", [base, base.point(lambda v: 255 - v), base])
        img = Image.blend(grad, tint, 0.5)
        noise = [Image.effect_noise((W // 2, H // 2), 60).resize((W, H)) for _ in range(3)]
        img = Image.blend(img, Image.merge("RGB", noise), 0.3)
    img.save(path, "JPEG", quality=90)


def build(photo_dir: Path, n_evidence: int, n_photos: int, texture: str) -> ReportData:
    paths = []
    for i in range(n_photos):
        p = photo_dir / f"photo_{i:03d}.jpg"
        if not p.exists():
            make_photo(p, i, texture)
        paths.append(p)
    t0 = datetime(2024, 9, 2, 7, 0, tzinfo=timezone.utc)
    comps = []
    for c in range(6):
        evs = []
        for k in range(n_evidence // 6):
            i = c * (n_evidence // 6) + k
            photos = [ReportPhoto(f"IMG_{i:04d}.jpg", paths[i])] if i < n_photos else []
            evs.append(ReportEvidence(
                id=i, state="submitted" if i % 10 == 0 else "validated",
                performed_at=t0 + timedelta(hours=7 * i), place="Usine Nord – Atelier usinage",
                activity_type="Intervention de maintenance", activity_title=f"Intervention n°{i} sur le tour CN",
                activity_description="Bruit anormal sur la broche, arrêt de la machine et diagnostic. " * 3,
                activity_data=[("Équipement", "Tour CN 3"), ("Durée (h)", "2,5"), ("OT", f"OT-{1000 + i}")],
                statement="J'ai consigné la machine, démonté le carter et remplacé le roulement. " * 4,
                criteria_observed=[("Sécurité", "Consignation réalisée selon la procédure"),
                                   ("Qualité", "Jeu axial mesuré et consigné"),
                                   ("Organisation", "Poste rangé en fin d'intervention")],
                tutor_name="Marie Curie", tutor_comment="Bonne maîtrise, à poursuivre en autonomie.",
                reviewed_at=t0 + timedelta(hours=7 * i + 30), photos=photos))
        comps.append(ReportCompetence(f"C{c + 1}", c + 1, f"Compétence {c + 1} : réaliser une intervention",
                                      evs, "Acquis (autonome)", "RAS", date(2025, 6, 1)))
    comps.append(ReportCompetence("C7", 7, "Compétence sans preuve", [], None, "", None))
    return ReportData("Léa Martin", "lmartin", "Marie Curie", "CQPM 0285",
                      "Technicien(ne) de maintenance industrielle", datetime.now(timezone.utc), True,
                      [ReportBlock("B1", "Maintenance", comps[:3]), ReportBlock("B2", "Amélioration", comps[3:])])


REPEAT = 3


def timed(fn, *args):
    """(best, worst) seconds over REPEAT runs, and the output: the machine may be shared."""
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t)
    return (min(times), max(times)), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texture", choices=("photo", "noise"), default="photo")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        data = build(Path(tmp), 300, 100, args.texture)
        sizes = [p.stat().st_size for p in Path(tmp).glob("*.jpg")]
        print(f"setup: {len(sizes)} photos {W}x{H} ({args.texture}), {sum(sizes) / len(sizes) / 1e6:.2f} MB avg, "
              f"{sum(sizes) / 1e6:.0f} MB total, built in {time.perf_counter() - t:.1f} s")
        n_photos = sum(len(e.photos) for c in data.competences for e in c.evidence)
        print(f"report: {data.evidence_count} evidence, {n_photos} photos")

        secs, docx = timed(render_docx, data)
        print(f"DOCX : best {secs[0]:5.2f} s, worst {secs[1]:5.2f} s  size {len(docx) / 1e6:.1f} MB")
        secs, xlsx = timed(render_xlsx, data)
        print(f"XLSX : best {secs[0]:5.2f} s, worst {secs[1]:5.2f} s  size {len(xlsx) / 1e3:.0f} kB")
        secs, html = timed(render_html, data, lambda p: f"/evidence/photos/{p.path.name}")
        print(f"HTML : best {secs[0]:5.2f} s, worst {secs[1]:5.2f} s  size {len(html) / 1e3:.0f} kB")

        big = build(Path(tmp), 9000, 0, args.texture)
        secs, xlsx = timed(render_xlsx, big)
        print(f"XLSX 9,000 evidence: best {secs[0]:5.2f} s, worst {secs[1]:5.2f} s  size {len(xlsx) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
