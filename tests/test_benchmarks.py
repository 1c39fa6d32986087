"""The benchmarks run (on a tiny load); their figures belong in the README, not in asserts."""
import subprocess
import sys


def test_export_benchmark_runs():
    result = subprocess.run([sys.executable, "-m", "benchmarks.export", "--quick"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "| 12 | 6 |" in result.stdout
