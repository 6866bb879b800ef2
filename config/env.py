"""The one place where configuration is read from the environment.

Every setting the service reads is listed in README.md ("Configuration"). `NAME_FILE` variants are honoured for
Docker secrets (FileAwareEnv reads the file named by `NAME_FILE` when `NAME` is unset).
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
