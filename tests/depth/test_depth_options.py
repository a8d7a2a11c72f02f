from __future__ import annotations

import pytest

from cad3d_depth.core import DepthOptions, ReferencePoint
from cad3d_kit.conversion import ConversionError


def test_defaults_match_the_proto_zero_values() -> None:
    options = DepthOptions.from_mapping(
        {"format": "OUTPUT_FORMAT_UNSPECIFIED", "target_triangles": 0, "relief_scale": 0}
    )
    assert options == DepthOptions()
    assert (options.format, options.target_triangles, options.relief_scale, options.fov_degrees) == (
        "glb",
        200_000,
        0.15,
        60.0,
    )


def test_full_mapping_is_parsed() -> None:
    options = DepthOptions.from_mapping(
        {
            "format": "OUTPUT_FORMAT_STL",
            "target_triangles": 1000.0,  # JSON / protobuf Struct numbers arrive as floats
            "relief_scale": 0.3,
            "solid_base": True,
            "texture": False,
            "preview": True,
            "fov_degrees": 70,
            "reference_points": [{"x": 1, "y": 2, "distance": 3.5}, {"x": 4, "y": 5, "distance": 6}],
        }
    )
    assert options.format == "stl" and options.target_triangles == 1000 and options.solid_base
    assert options.reference_points == (ReferencePoint(1, 2, 3.5), ReferencePoint(4, 5, 6))
    assert options.fov_degrees == 70.0 and options.preview


@pytest.mark.parametrize(
    "bad",
    [
        {"format": "obj"},
        {"target_triangles": 1.5},
        {"target_triangles": -5},
        {"target_triangles": 10**9},
        {"relief_scale": -1},
        {"relief_scale": "tall"},
        {"fov_degrees": 200},
        {"solid_base": "yes please"},
        {"reference_points": [{"x": 1, "y": 2}]},
        {"reference_points": [{"x": 1, "y": 2, "distance": 0}]},
        {"reference_points": [{"x": float("nan"), "y": 2, "distance": 1}]},
        {"reference_points": "here"},
        {"colour": "red"},
    ],
)
def test_invalid_options_have_a_stable_code(bad: dict) -> None:
    with pytest.raises(ConversionError) as info:
        DepthOptions.from_mapping(bad)
    assert info.value.code == "invalid_options"


def test_options_from_the_proto_message() -> None:
    # The servicer's path: ConvertOptions -> MessageToDict(preserving_proto_field_name) -> from_mapping.
    from google.protobuf.json_format import MessageToDict

    from cad3d.depth.v1 import depth_pb2

    message = depth_pb2.ConvertOptions(
        format=depth_pb2.OUTPUT_FORMAT_PLY,
        target_triangles=1234,
        fov_degrees=75,
        reference_points=[depth_pb2.ReferencePoint(x=10, y=20, distance=2.5)],
    )
    options = DepthOptions.from_mapping(MessageToDict(message, preserving_proto_field_name=True))
    assert options == DepthOptions(
        format="ply", target_triangles=1234, fov_degrees=75.0, reference_points=(ReferencePoint(10, 20, 2.5),)
    )
    assert DepthOptions.from_mapping(MessageToDict(depth_pb2.ConvertOptions())) == DepthOptions()


@pytest.mark.parametrize("fmt", ["OUTPUT_FORMAT_UNSPECIFIED", "unspecified", "", 0, None])
def test_unspecified_format_means_glb(fmt: object) -> None:
    assert DepthOptions.from_mapping({"format": fmt}).format == "glb"


def test_options_through_the_kits_generic_mapping() -> None:
    from cad3d.depth.v1 import depth_pb2
    from cad3d_kit.conversion_service import options_to_mapping

    message = depth_pb2.ConvertOptions(
        format=depth_pb2.OUTPUT_FORMAT_DEPTH_PNG,
        preview=True,
        reference_points=[
            depth_pb2.ReferencePoint(x=1, y=2, distance=3),
            depth_pb2.ReferencePoint(x=4, y=5, distance=6),
        ],
    )
    options = DepthOptions.from_mapping(options_to_mapping(message))
    assert options.format == "depth_png" and options.preview
    assert options.reference_points == (ReferencePoint(1, 2, 3), ReferencePoint(4, 5, 6))
