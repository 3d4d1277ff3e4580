"""Issue 19 item 6 over real HTTP: a US-dated catalog is refused with one finding naming
``--date-format``; with it (or the job key ``date_format``) the sandbox receives ISO dates and a
second run sends nothing."""

from __future__ import annotations

from tests.support.jobs import blank_provider_env, credentials_file, write_config
from tests.support.sync import (
    FAST,
    env_for,
    fresh_catalog,
    products,
    read_rows,
    run_cli,
    sandbox,
    write_requests,
    write_rows,
)


def _us_catalog(folder):
    """The Royalti sample with its release dates written the US way (07/17/2020, 9/1/2024)."""
    rows = read_rows(fresh_catalog("royalti", folder, "sample.csv"))
    iso = [r["releaseDate"] for r in rows]
    for row in rows:
        year, month, day = row["releaseDate"].split("-")
        row["releaseDate"] = f"{int(month)}/{day}/{year}"
    return write_rows(folder / "us.csv", rows), iso


def _released(sb) -> dict[str, str]:
    return {p["externalId"]: str(p["releaseDate"])[:10] for p in products(sb)}


def test_plan_and_apply_read_local_dates_and_send_iso(tmp_path):
    catalog, iso = _us_catalog(tmp_path)
    externals = [r["externalId"] for r in read_rows(catalog)]
    with sandbox("royalti") as sb:
        env = env_for(sb, "royalti", tmp_path)
        base = ["-p", "royalti", "--state", str(tmp_path / "state.db"), *FAST]
        refused = run_cli(["plan", str(catalog), *base], env)
        assert refused.exit_code == 3
        assert refused.output.count("local-date-format") == 1 and "--date-format MM/DD/YYYY" in refused.output

        local = [*base, "--date-format", "MM/DD/YYYY"]
        done = run_cli(["apply", str(catalog), *local, "--yes"], env)
        assert done.exit_code == 0, done.output
        assert _released(sb) == dict(zip(externals, iso, strict=True))
        assert not sb.stats()["refused"]  # every body held to the OpenAPI document (format: date)

        sent = write_requests(sb)
        again = run_cli(["plan", str(catalog), *local, "--detailed-exitcode"], env)
        assert again.exit_code == 0, again.output  # the ISO dates it holds are the sheet's dates
        assert run_cli(["apply", str(catalog), *local, "--yes"], env).exit_code == 0
        assert write_requests(sb) == sent


def test_the_job_key_date_format_reads_a_jobs_local_dates(tmp_path):
    catalog, iso = _us_catalog(tmp_path)
    with sandbox("royalti") as sb:
        creds = credentials_file(tmp_path, sb)
        jobs = (
            f'credentials = "{creds.name}"\n[defaults]\nrate = 1000\n'
            f'[jobs.us]\nprovider = "royalti"\ncatalog = "{catalog.name}"\ndate_format = "MM/DD/YYYY"\n'
            f'[jobs.plain]\nprovider = "royalti"\ncatalog = "{catalog.name}"\nstate = "other.db"\n'
        )
        config = write_config(tmp_path, jobs)
        us = run_cli(["run", "us", "--config", str(config)], blank_provider_env())
        assert us.exit_code == 0, us.output
        assert sorted(_released(sb).values()) == sorted(iso)
        plain = run_cli(["run", "plain", "--config", str(config)], blank_provider_env())
        assert plain.exit_code == 3 and "--date-format" in plain.output
