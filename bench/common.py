"""Shared by the benchmarks: a dedicated PostgreSQL database and the result file format of DEVELOPERS.md."""

import json
import os
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/screener_bench"


def bench_database() -> None:
    """Set Django up on its own database (created and migrated if needed), apart from the tests' and the app's."""
    os.environ.setdefault("DATABASE_URL", BENCH_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import psycopg2

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    admin = psycopg2.connect(os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def write_result(*, name: str, unit: str, value: float, better: str, baselines: dict[str, float], params: dict,
                 extra: dict) -> None:  # fmt: skip
    def times_better(baseline: float) -> float:
        return round(value / baseline if better == "higher" else baseline / value, 2)

    result = {
        "name": name, "unit": unit, "value": value, "better": better, "baselines": baselines,
        "ratios": {key: times_better(baseline) for key, baseline in baselines.items()}, "params": params,
        "extra": extra,
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
