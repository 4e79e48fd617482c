"""The seed's eight programs, run as a user would (`tensorkeep exec`, in order, in one
directory), print exactly what real TensorFlow printed (../shared/seed/expected)."""

import os
import subprocess
import sys


def test_seed_programs_print_what_tensorflow_prints(shared_dir, tmp_path):
    programs = os.path.join(shared_dir, "seed", "programs")
    expected = os.path.join(shared_dir, "seed", "expected")
    names = sorted(n[:-3] for n in os.listdir(programs) if n.endswith(".py"))
    assert len(names) == 8
    for name in names:
        proc = subprocess.run([sys.executable, "-m", "tensorkeep", "exec",
                               os.path.join(programs, name + ".py")],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, "%s failed:\n%s" % (name, proc.stderr[-2000:])
        with open(os.path.join(expected, name + ".out")) as f:
            assert proc.stdout == f.read(), name
    # The files the programs left are TensorFlow's: the checkpoint bytes equal the golden ones.
    golden = os.path.join(shared_dir, "golden", "seed_files")
    for folder, prefix in (("tt", "model.ckpt"), ("qq", "model.ckpt"), ("model", "model2.ckpt")):
        for suffix in (".index", ".data-00000-of-00001"):
            with open(os.path.join(golden, folder, prefix + suffix), "rb") as f:
                want = f.read()
            assert (tmp_path / folder / (prefix + suffix)).read_bytes() == want, \
                folder + "/" + prefix + suffix
