"""The installed PySide6 must survive Qt calls while Python threads run (6.12.0 does not)."""

from __future__ import annotations

import subprocess
import sys

PROBE = r"""
import os, threading
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QCoreApplication, QObject
app = QCoreApplication([])
obj = QObject()
stop = False
def churn():
    while not stop:
        for i in range(10000):
            a, b, c = (i % 3 == 0), None, [True, False, None]
threads = [threading.Thread(target=churn) for _ in range(2)]
for t in threads:
    t.start()
for _ in range(200000):
    obj.setObjectName("x")  # returns None, like most Qt calls the GUI makes
stop = True
for t in threads:
    t.join()
print("survived")
"""


def test_qt_calls_while_python_threads_run():
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "survived" in proc.stdout, (
        "PySide6 corrupted reference counts with threads running (known in 6.12.0):\n"
        + proc.stderr[-800:]
    )
