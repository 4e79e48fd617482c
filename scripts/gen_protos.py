"""Compile tensorkeep/io/protos/*.proto into the committed descriptor set.

The package loads `descriptors.binpb` at run time instead of generated *_pb2 modules, so
it works with any protobuf runtime version. Run after editing a .proto file:

    .venv/bin/python scripts/gen_protos.py
"""

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = REPO_ROOT / "tensorkeep" / "io" / "protos"
OUTPUT = PROTO_DIR / "descriptors.binpb"


def compile_descriptor_set(output: Path) -> int:
    """Run protoc on every .proto file of the package; returns protoc's exit status."""
    import grpc_tools
    from grpc_tools import protoc

    well_known_includes = Path(grpc_tools.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(REPO_ROOT)) for p in PROTO_DIR.glob("*.proto"))
    args = [
        "protoc",
        f"-I{REPO_ROOT}",
        f"-I{well_known_includes}",
        "--include_imports",
        f"--descriptor_set_out={output}",
        *sources,
    ]
    # Source paths are relative to the repository so the descriptors never name this machine.
    previous = os.getcwd()
    os.chdir(REPO_ROOT)
    try:
        return protoc.main(args)
    finally:
        os.chdir(previous)


def main() -> int:
    status = compile_descriptor_set(OUTPUT)
    if status != 0:
        print(f"protoc failed with status {status}", file=sys.stderr)
        return status
    print(f"wrote {OUTPUT.relative_to(REPO_ROOT)} ({OUTPUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
