"""catalog-sync.toml: keys, defaults, relative paths, refused values, credentials files."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_sync.config.jobs import job_environment, load_run_config, read_credentials_file
from catalog_sync.errors import ConfigError
from tests.support.jobs import blank_provider_env, write_config
from tests.support.sync import run_cli

BASIC = """
[defaults]
state = "var/state.db"
reports = "out"
keep_reports = 3
rate = 7

[jobs.labels]
provider = "royalti"
catalog = "catalogs/labels.xlsx"
sheet = "Products"
mapping = "maps/labels.yaml"
mode = "mirror"
blanks = "clear"
max_deletes = 2
max_failures = 20
concurrency = 4
report_format = "xlsx"

[jobs.licences]
provider = "keevault"
catalog = "/data/licences.csv"
rate = 2
keep_reports = 10
"""


def test_defaults_apply_to_every_job_and_paths_are_relative_to_the_config_file(tmp_path):
    config = load_run_config(write_config(tmp_path, BASIC))
    labels, licences = config.select()
    assert labels.name == "labels" and licences.name == "licences"  # file order
    assert labels.catalog == tmp_path / "catalogs" / "labels.xlsx"
    assert labels.mapping == tmp_path / "maps" / "labels.yaml"
    assert labels.state == licences.state == tmp_path / "var" / "state.db"
    assert labels.reports == tmp_path / "out"
    assert (labels.mode, labels.blanks, labels.max_deletes, labels.max_failures) == ("mirror", "clear", 2, 20)
    assert (labels.rate, labels.concurrency, labels.report_format, labels.keep_reports) == (7, 4, "xlsx", 3)
    assert licences.catalog == Path("/data/licences.csv")
    assert (licences.rate, licences.keep_reports, licences.report_format) == (2, 10, "csv")
    assert [j.name for j in config.select(["licences"])] == ["licences"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("colour = 1\n[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\n", "'colour'"),
        (
            "[defaults]\nkeep_report = 3\n[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\n",
            "'defaults.keep_report'",
        ),
        ("[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\nmdoe='upsert'\n", "'jobs.a.mdoe'"),
        ("[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\n[alerts]\nurl=['json://x']\n", "'alerts.url'"),
        ("[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\n[providers.royalti]\napi_key='k'\n", "api_key"),
    ],
)
def test_an_unknown_key_anywhere_is_an_error_naming_it(tmp_path, text, named):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match="unknown key") as caught:
        load_run_config(path)
    assert named in caught.value.message
    result = run_cli(["run", "--config", str(path)], {})
    assert result.exit_code == 1
    assert named in result.stderr and "Traceback" not in result.output


def test_a_near_miss_key_gets_the_right_one_suggested(tmp_path):
    path = write_config(tmp_path, "[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\nmax_delete=1\n")
    with pytest.raises(ConfigError, match="did you mean 'max_deletes'"):
        load_run_config(path)


def test_an_html_report_format_is_taken_and_other_formats_are_refused(tmp_path):
    path = write_config(tmp_path, "[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\nreport_format='HTML'\n")
    assert load_run_config(path).jobs["a"].report_format == "html"
    path = write_config(tmp_path, "[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\nreport_format='pdf'\n")
    with pytest.raises(ConfigError, match="must be one of csv, xlsx, json, html"):
        load_run_config(path)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("mode='sideways'", "jobs.a.mode must be one of upsert"),
        ("rate=0", "jobs.a.rate must be a number > 0"),
        ("keep_reports=0", "jobs.a.keep_reports must be a whole number >= 1"),
        ("max_deletes=-1", "jobs.a.max_deletes"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(tmp_path, line, says):
    text = f"[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\n{line}\n"
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        load_run_config(write_config(tmp_path, text))
    with pytest.raises(ConfigError, match=r"jobs\.a\.provider must be one of jogg, keevault, royalti"):
        load_run_config(write_config(tmp_path, "[jobs.a]\nprovider='shopify'\ncatalog='c.csv'\n"))


def test_a_job_without_a_catalog_or_a_missing_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="no catalog"):
        load_run_config(write_config(tmp_path, "[jobs.a]\nprovider='royalti'\n"))
    result = run_cli(["run", "--config", str(tmp_path / "nope.toml")], {})
    assert result.exit_code == 1 and "no config file" in result.stderr


def test_an_unknown_job_name_is_a_usage_error(tmp_path):
    path = write_config(tmp_path, "[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\n")
    result = run_cli(["run", "nosuch", "--config", str(path)], {})
    assert result.exit_code == 2 and "nosuch" in result.stderr


def test_alert_outcomes_and_urls_are_checked(tmp_path):
    base = "[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\n[alerts]\n"
    with pytest.raises(ConfigError, match="unknown outcome 'broken'"):
        load_run_config(write_config(tmp_path, base + "urls=['json://127.0.0.1:1/x']\non=['broken']\n"))
    with pytest.raises(ConfigError, match=r"alerts.urls\[0\]: Apprise does not understand"):
        load_run_config(write_config(tmp_path, base + "urls=['nonsense://x']\non=['failed']\n"))


def test_credentials_file_levels_top_defaults_job(tmp_path):
    text = (
        "credentials = 'top.env'\n[defaults]\ncredentials = 'defaults.env'\n"
        "[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\ncredentials='job.env'\n"
        "[jobs.b]\nprovider='royalti'\ncatalog='c.csv'\n"
    )
    a, b = load_run_config(write_config(tmp_path, text)).select()
    assert a.credentials == tmp_path / "job.env" and b.credentials == tmp_path / "defaults.env"
    only_top = load_run_config(
        write_config(tmp_path, "credentials = 'top.env'\n[jobs.b]\nprovider='royalti'\ncatalog='c.csv'\n")
    )
    assert only_top.select()[0].credentials == tmp_path / "top.env"


def test_credentials_file_lines_and_quotes(tmp_path):
    path = tmp_path / "c.env"
    path.write_text("# comment\n\nexport A_KEY='one two'\nB=\"x=y\"\nC = plain \n", encoding="utf-8")
    path.chmod(0o600)
    assert read_credentials_file(path) == {"A_KEY": "one two", "B": "x=y", "C": "plain"}


def test_a_credentials_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "c.env"
    path.write_text("ROYALTI_API_KEY=RWAK_very_secret_1234\n", encoding="utf-8")
    for mode in (0o644, 0o640, 0o604, 0o620):
        path.chmod(mode)
        with pytest.raises(ConfigError, match="chmod 600") as caught:
            read_credentials_file(path)
        assert "RWAK_very_secret_1234" not in caught.value.message


def test_a_malformed_credentials_line_is_named_by_number_never_by_its_text(tmp_path):
    path = tmp_path / "c.env"
    path.write_text("ROYALTI_API_KEY=ok\nRWAK_pasted_without_a_name_99\n", encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="line 2: not a NAME=value line") as caught:
        read_credentials_file(path)
    assert "RWAK_pasted" not in caught.value.message


def test_a_job_reads_its_credentials_file_over_the_environment(tmp_path):
    path = tmp_path / "c.env"
    path.write_text("ROYALTI_API_KEY=from-file\n", encoding="utf-8")
    path.chmod(0o600)
    config = load_run_config(
        write_config(tmp_path, "[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\ncredentials='c.env'\n")
    )
    env = job_environment(config.select()[0], {"ROYALTI_API_KEY": "from-env", "HOME": "/h"})
    assert env == {"ROYALTI_API_KEY": "from-file", "HOME": "/h"}


def test_a_job_whose_credentials_file_is_readable_by_others_exits_1_and_says_how_to_fix(tmp_path):
    (tmp_path / "c.csv").write_text("title\nX\n", encoding="utf-8")
    creds = tmp_path / "c.env"
    creds.write_text("ROYALTI_API_KEY=RWAK_world_readable_77\n", encoding="utf-8")
    creds.chmod(0o644)
    path = write_config(tmp_path, "[jobs.a]\nprovider='royalti'\ncatalog='c.csv'\ncredentials='c.env'\n")
    result = run_cli(["run", "--config", str(path)], blank_provider_env())
    assert result.exit_code == 1, result.output
    assert "chmod 600" in result.stderr and "RWAK_world_readable_77" not in result.output
