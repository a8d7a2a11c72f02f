"""PNG previews: the pictures show the geometry where it is, in its colours, at the right size."""

from __future__ import annotations

import io
import json
from pathlib import Path

import ezdxf
import numpy as np
import pytest
from PIL import Image

from cad3d_cli.preview import (
    PANEL_MARGINS,
    SIZE,
    bbox_caption,
    model_caption,
    render_drawing_png,
    render_model_png,
    render_pdf_page_png,
    write_preview,
)
from cad3d_cli.preview_model import load_model
from cad3d_cli.preview_raster import nice_length, render_view, scale_bar_label, top_view
from cad3d_dxf.core import DxfOptions, convert
from cad3d_kit.conversion import OutputArtifact
from tests.support.fixtures import dxf_bytes, plate_with_hole

# A 2 m x 2 m L (its notch is x, y in 1..2 m) and a 0.4 m square inside the notch.
L_OUTLINE = [(0, 0), (2000, 0), (2000, 1000), (1000, 1000), (1000, 2000), (0, 2000)]
BLUE_SQUARE = [(1500, 1500), (1900, 1500), (1900, 1900), (1500, 1900)]


def l_plate_dxf() -> bytes:
    """Millimetres: a red L and, inside its notch, a separate blue square."""
    doc = ezdxf.new("R2010", units=4)
    doc.layers.add("RED", color=1)
    doc.layers.add("BLUE", color=5)
    msp = doc.modelspace()
    msp.add_lwpolyline(L_OUTLINE, close=True, dxfattribs={"layer": "RED"})
    msp.add_lwpolyline(BLUE_SQUARE, close=True, dxfattribs={"layer": "BLUE"})
    return dxf_bytes(doc)


def model(fmt: str) -> list[OutputArtifact]:
    return convert(l_plate_dxf(), DxfOptions(format=fmt, height=100)).artifacts


def top_pixel(x_m: float, y_m: float) -> tuple[int, int]:
    """Where a plan point of the 2 m x 2 m L lands in the top panel (the right half of the PNG):
    the panel is 800 x 800 less its margins, the model is centred and fitted to the tighter side."""
    left, top, right, bottom = PANEL_MARGINS
    room_x, room_y = SIZE[0] // 2 - left - right, SIZE[1] - top - bottom
    scale = min(room_x, room_y) / 2.0
    return (
        SIZE[0] // 2 + round(left + room_x / 2 + (x_m - 1.0) * scale),
        round(top + room_y / 2 - (y_m - 1.0) * scale),
    )


def is_red(rgb: np.ndarray) -> bool:
    return bool(rgb[0] > 150 and rgb[1] < 60 and rgb[2] < 60)


def is_blue(rgb: np.ndarray) -> bool:
    return bool(rgb[2] > 150 and rgb[0] < 60 and rgb[1] < 60)


def is_background(rgb: np.ndarray) -> bool:
    return bool(rgb.min() > 245)


def png(path: Path) -> np.ndarray:
    image = Image.open(path)
    assert image.size == SIZE
    return np.asarray(image.convert("RGB"))


def test_glb_top_view_shows_the_l_in_its_layer_colours_and_the_notch_empty(tmp_path: Path) -> None:
    [glb] = model("glb")
    out = tmp_path / "model.png"
    assert render_model_png(glb.data, "glb", out, title="L") == []
    picture = png(out)
    x, y = top_pixel(0.5, 0.5)  # inside the L
    assert is_red(picture[y, x]), picture[y, x]
    x, y = top_pixel(1.5, 0.5)  # the L's other arm
    assert is_red(picture[y, x]), picture[y, x]
    x, y = top_pixel(1.2, 1.2)  # in the notch, off the blue square
    assert is_background(picture[y, x]), picture[y, x]
    x, y = top_pixel(1.7, 1.7)  # the blue square in the notch
    assert is_blue(picture[y, x]), picture[y, x]
    # The oblique panel (left half) shows the same model: red and blue, shaded.
    oblique = picture[:, : SIZE[0] // 2].reshape(-1, 3).astype(int)
    assert ((oblique[:, 0] > 120) & (oblique[:, 1] < 60) & (oblique[:, 2] < 60)).sum() > 20_000
    assert ((oblique[:, 2] > 120) & (oblique[:, 0] < 60) & (oblique[:, 1] < 60)).sum() > 1_000


def test_top_view_scale_is_the_fitted_pixels_per_metre() -> None:
    [glb] = model("glb")
    panel = render_view(load_model(glb.data, "glb"), top_view(), (SIZE[0] // 2, SIZE[1]), PANEL_MARGINS)
    left, top, right, bottom = PANEL_MARGINS
    assert panel.pixels_per_metre == pytest.approx(min(SIZE[0] // 2 - left - right, SIZE[1] - top - bottom) / 2.0)


@pytest.mark.parametrize("fmt", ["stl", "obj", "dxf"])
def test_every_model_format_previews_the_same_plan(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "model.png"
    assert write_preview(model(fmt), out, fmt, title=fmt) == []
    picture = png(out)
    inside, notch = picture[top_pixel(0.5, 0.5)[::-1]], picture[top_pixel(1.2, 1.2)[::-1]]
    assert is_background(notch) and not is_background(inside)
    if fmt != "stl":  # STL has no colours; OBJ's come from its MTL, a 3D DXF's from its faces
        assert is_red(inside), inside


def test_units_of_files_that_do_not_say_default_to_mm_and_can_be_overridden() -> None:
    [stl] = model("stl")
    assert np.ptp(load_model(stl.data, "stl").bounds, axis=0) == pytest.approx([2.0, 2.0, 0.1])
    assert np.ptp(load_model(stl.data, "stl", unit="m").bounds, axis=0) == pytest.approx([2000, 2000, 100])
    obj = next(a for a in convert(l_plate_dxf(), DxfOptions(format="obj", height=100, output_unit="cm")).artifacts)
    loaded = load_model(obj.data, "obj")  # cad3d's OBJ names its unit in its first line
    assert loaded.unit == "cm"
    # --height is in the output unit: 100 cm.
    assert np.ptp(loaded.bounds, axis=0) == pytest.approx([2.0, 2.0, 1.0])


def test_caption_gives_the_bounding_box_in_metres() -> None:
    assert bbox_caption([8.6, 3.4, 3.0]) == "8.60 m x 3.40 m x 3.00 m"
    assert bbox_caption([0.1, 0.05, 0.01]) == "0.100 m x 0.050 m x 0.010 m (100 x 50 x 10 mm)"
    plate = convert(plate_with_hole(100, 50, 20), DxfOptions(format="glb", height=10)).artifacts[0]
    caption = model_caption(load_model(plate.data, "glb"))
    assert caption.startswith("0.100 m x 0.050 m x 0.010 m (100 x 50 x 10 mm)")


def test_scale_bar_length_is_a_round_number_in_the_model_unit() -> None:
    assert nice_length(3.7) == 2
    assert nice_length(740) == 500
    assert nice_length(0.07) == pytest.approx(0.05)
    assert scale_bar_label(1000, "mm", 0.001) == "1000 mm = 1 m"
    assert scale_bar_label(50, "mm", 0.001) == "50 mm"


def drawing_rectangle() -> bytes:
    """A 1000 x 500 mm rectangle in black/white (ACI 7), drawn dark on the white picture."""
    doc = ezdxf.new("R2010", units=4)
    doc.modelspace().add_lwpolyline([(0, 0), (1000, 0), (1000, 500), (0, 500)], close=True)
    return dxf_bytes(doc)


def test_drawing_png_is_dark_where_the_lines_are_and_white_inside(tmp_path: Path) -> None:
    out = tmp_path / "drawing.png"
    assert render_drawing_png(drawing_rectangle(), out, title="rect") == []
    picture = png(out).astype(int).sum(axis=2)
    # Fitted between the margins (30, 60, 30, 80): 1.32 px/mm, centred at (800, 390).
    scale, cx, cy = 1.32, 800, 390
    bottom_edge = picture[round(cy + 250 * scale) - 4 : round(cy + 250 * scale) + 5, cx - 200 : cx + 200]
    assert (bottom_edge.min(axis=0) < 300).all()  # the line runs across the whole window
    left_edge = picture[cy - 100 : cy + 100, round(cx - 500 * scale) - 4 : round(cx - 500 * scale) + 5]
    assert (left_edge.min(axis=1) < 300).all()
    assert picture[cy - 150 : cy + 150, cx - 400 : cx + 400].min() > 700  # inside is white


def test_a_2d_dxf_result_previews_as_a_drawing(tmp_path: Path) -> None:
    out = tmp_path / "page.png"
    artifacts = [OutputArtifact("page-1.dxf", "image/vnd.dxf", drawing_rectangle())]
    assert write_preview(artifacts, out, "dxf", title="page") == []
    assert (png(out).sum(axis=2) < 300).sum() > 1000


def test_unreadable_drawing_gives_a_picture_that_says_so(tmp_path: Path) -> None:
    out = tmp_path / "drawing.png"
    notes = render_drawing_png(b"this is not a drawing", out)
    assert out.exists() and notes and "cannot read" in notes[0]


def test_pdf_page_is_rendered_on_white(tmp_path: Path) -> None:
    import pymupdf

    with pymupdf.open() as pdf:
        page = pdf.new_page(width=400, height=200)
        page.draw_rect(pymupdf.Rect(50, 50, 350, 150), color=(0, 0, 0), width=3)
        data = pdf.tobytes()
    out = tmp_path / "page.png"
    render_pdf_page_png(data, out)
    picture = png(out).sum(axis=2)
    assert picture[400, 800] > 700 and picture[:, 800].min() < 200  # white inside, a dark edge above and below


def test_richland_house_plan_renders_despite_ezdxf_failing_on_one_block(corpus_dir: Path, tmp_path: Path) -> None:
    path = corpus_dir / "dxf" / "richland__House_Plan-01.dxf"
    if not path.exists():
        pytest.skip(f"{path.name} not in the corpus")
    out = tmp_path / "drawing.png"
    notes = render_drawing_png(path.read_bytes(), out, title=path.name)
    assert any("could not be drawn" in note for note in notes), notes
    # The rest of the plan is there, in its colours (between the title and the scale bar; a lone
    # rectangle drawn the same way leaves about 5,000 such pixels).
    assert (png(out)[60:720].sum(axis=2) < 600).sum() > 15_000


def test_render_script_writes_pictures_report_and_index(tmp_path: Path) -> None:
    from scripts.render_corpus import main, preset_for

    assert preset_for(Path("skymakerolof-dxf__floorplan.dxf")) == "architecture"
    assert preset_for(Path("richland__House_Plan-01.dxf")) == "architecture"
    assert preset_for(Path("comanda-postgis__ex1_laser_panel.dxf")) == "mechanical"
    assert preset_for(Path("openeai-arm__JXS-01-01.pdf")) == "mechanical"
    assert preset_for(Path("libredwg__example_2000.dxf")) is None
    source = tmp_path / "plate.dxf"
    source.write_bytes(plate_with_hole(100, 50, 20))
    broken = tmp_path / "empty.dxf"
    broken.write_bytes(dxf_bytes(ezdxf.new("R2010")))
    out = tmp_path / "render"
    assert main([str(source), str(broken), "--corpus", str(tmp_path / "none"), "--out", str(out)]) == 0
    for name in ("drawing.png", "model.png", "report.json", "model.glb"):
        assert (out / "plate" / name).exists(), name
    summary = json.loads((out / "plate" / "summary.json").read_text())
    assert summary["ok"] and summary["size_m"] == pytest.approx([0.1, 0.05, summary["size_m"][2]])
    failed = json.loads((out / "empty" / "summary.json").read_text())
    assert not failed["ok"] and failed["error"]["code"]
    index = (out / "index.html").read_text()
    assert 'src="plate/model.png"' in index and "failed: " in index
    assert Image.open(io.BytesIO((out / "plate" / "model.png").read_bytes())).size == SIZE


def test_zbuffer_keeps_the_nearest_face_at_every_pixel_like_a_brute_force_check() -> None:
    from cad3d_cli.preview_zbuffer import rasterise

    rng = np.random.default_rng(7)
    width, height = 64, 48
    # Wide, tall (scanned by columns) and overlapping triangles at random depths.
    centres = rng.uniform([0, 0], [width, height], (60, 1, 2))
    pixels = centres + rng.uniform(-1, 1, (60, 3, 2)) * rng.choice([[3, 30], [30, 3], [20, 20]], 60)[:, None, :]
    depth = rng.uniform(-10, 10, (60, 3))
    buffers = rasterise(pixels, depth, (width, height))
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    best = np.full((height, width), -np.inf)
    for (a, b, c), z in zip(pixels, depth, strict=True):
        det = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])
        if abs(det) < 1e-9:
            continue
        wb = ((xs - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (ys - a[1])) / det
        wc = ((b[0] - a[0]) * (ys - a[1]) - (xs - a[0]) * (b[1] - a[1])) / det
        inside = (wb >= 0) & (wc >= 0) & (wb + wc <= 1)
        best = np.where(inside, np.maximum(best, z[0] + wb * (z[1] - z[0]) + wc * (z[2] - z[0])), best)
    covered = np.isfinite(best)
    assert (np.isfinite(buffers.depth) == covered).mean() > 0.995  # pixel centres on an edge may differ
    both = covered & np.isfinite(buffers.depth)
    assert np.isclose(buffers.depth[both], best[both]).mean() > 0.995


def test_binary_dxf_is_drawn_like_an_ascii_one(tmp_path: Path) -> None:
    doc = ezdxf.new("R2010", units=4)
    doc.modelspace().add_lwpolyline([(0, 0), (1000, 0), (1000, 500), (0, 500)], close=True)
    stream = io.BytesIO()
    doc.write(stream, fmt="bin")  # type: ignore[arg-type]
    binary, ascii_ = tmp_path / "binary.png", tmp_path / "ascii.png"
    assert render_drawing_png(stream.getvalue(), binary) == []
    assert render_drawing_png(drawing_rectangle(), ascii_) == []
    assert (png(binary)[60:730].sum(axis=2) < 600).sum() > 2000  # the rectangle is there
    assert np.array_equal(png(binary), png(ascii_))
