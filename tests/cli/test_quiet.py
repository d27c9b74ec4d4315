import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_silenced_stderr_hides_what_c_code_writes_and_gives_the_descriptor_back():
    code = ("import os, sys\nsys.argv[0] = 'zoo'\nfrom zoo.cli.quiet import silenced_stderr\nwith silenced_stderr():\n"
            "    os.write(2, b'from C\\n')\n    print('from Python', file=sys.stderr)\n"
            "os.write(2, b'after\\n')\nprint('stdout stays')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert (result.returncode, result.stderr, result.stdout) == (0, "after\n", "stdout stays\n")


def test_an_error_inside_still_reaches_the_terminal():
    code = ("from zoo.cli.quiet import silenced_stderr\nwith silenced_stderr():\n    raise ValueError('shown')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1 and "ValueError: shown" in result.stderr
