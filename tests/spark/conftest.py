"""One Spark session (local[2]) shared by every Spark test: starting one costs ~10 s.

The Spark tests need Java 17+; where none can be had they skip, saying so. pyspark itself comes with
`make test` (the `recon[spark]` extra), so a missing pyspark is an install error, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from recon.config.settings import SparkSettings
from recon.matching.spark_engine import session

# Small shuffles: the test days have hundreds of rows, and every partition is a task.
TEST_CONF = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2", "spark.ui.enabled": "false"}


def _java_problem() -> str | None:
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return "no Java on this machine: Spark needs Java 17 (apt-get install openjdk-17-jre-headless)"
    text = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)', text)
    if not found or int(found.group(1)) < 17:
        return f"Spark needs Java 17 or later; {java} says: {text.splitlines()[0] if text else 'nothing'}"
    return None


@pytest.fixture(scope="session")
def spark():
    problem = _java_problem()
    if problem:
        pytest.skip(problem)
    spark = session(SparkSettings(master="local[2]", conf=TEST_CONF))
    yield spark
    spark.stop()
