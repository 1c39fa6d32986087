"""The benchmarks run (on a tiny load); their figures belong in the README, not in asserts."""
import subprocess
import sys


def test_export_benchmark_runs():
    result = subprocess.run([sys.executable, "-m", "benchmarks.export", "--quick"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "| 12 | 6 |" in result.stdout


def test_load_benchmark_runs():
    result = subprocess.run([sys.executable, "-m", "benchmarks.load", "--quick"],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| toolkit: poll (idle) |" in result.stdout and "| baseline: GET |" in result.stdout
    assert "acknowledged end states stored exactly" in result.stdout
