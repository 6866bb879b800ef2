"""The one place where configuration is read from the environment.

Every setting the service reads is listed in README.md ("Configuration"). `NAME_FILE` variants serve
Docker secrets: when `NAME_FILE` is set, FileAwareEnv reads the value from that file, and it wins over `NAME`.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
