"""``catalog-sync.toml``: the cron jobs, their defaults, the alerts, and credentials files.

    config = load_run_config("catalog-sync.toml")       # ConfigError (exit 1) naming any bad key
    for job in config.select(["labels"]):
        env = job_environment(job)                      # os.environ + the job's credentials file

Layout (docs/reference/config.md): top-level ``credentials``; ``[defaults]`` (any job key); ``[jobs.NAME]``;
``[alerts]`` (``urls``, ``on``); ``[providers.NAME]`` may only name a ``base_url`` (credentials
belong in the environment or a credentials file only its owner can read).  Relative paths are
relative to the config file.  An unknown key anywhere is an error naming it, with the nearest
valid key suggested.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_sync.config.credentials import CONFIG_FILE, SECRET_VARIABLES, register_secret
from catalog_sync.config.defaults import BLANKS, DATE_FORMATS, ENGINES, MODES, PREFER
from catalog_sync.errors import ConfigError
from catalog_sync.providers.registry import NAMES

__all__ = [
    "ALERT_OUTCOMES",
    "JOB_KEYS",
    "REPORT_FORMATS",
    "AlertsConfig",
    "JobConfig",
    "RunConfig",
    "job_environment",
    "load_run_config",
    "read_credentials_file",
]

REPORT_FORMATS = ("csv", "xlsx", "json", "html")

#: what an alert may be sent for (``[alerts] on``)
ALERT_OUTCOMES = ("ok", "failed", "rows-failed", "locked", "limit", "empty-catalog")
DEFAULT_KEEP_REPORTS = 50
_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_WORDS = ("KEY", "PASSWORD", "TOKEN", "SECRET")


def _texts(where: str, value: Any) -> tuple[str, ...]:
    """A file name, or a list of them (``schema = ["house.yaml", "strict.yaml"]``)."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{where} must be a file name or a list of them (got {value!r})")
    return tuple(_text(where, v) for v in values)


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be a non-empty string (got {type(value).__name__})")
    return value.strip()


def _choice(options: Sequence[str]) -> Callable[[str, Any], str]:
    def check(where: str, value: Any) -> str:
        text = _text(where, value)
        if text not in options:
            raise ConfigError(f"{where} must be one of {', '.join(options)} (got {text!r})")
        return text

    return check


def _report_format(where: str, value: Any) -> str:
    return _choice(REPORT_FORMATS)(where, value.lower() if isinstance(value, str) else value)


def _date_format(where: str, value: Any) -> str:
    text = _text(where, value)
    for form in DATE_FORMATS:
        if form.casefold() == text.casefold():
            return form
    raise ConfigError(f"{where} must be one of {', '.join(DATE_FORMATS)} (got {text!r})")


def _integer(minimum: int) -> Callable[[str, Any], int]:
    def check(where: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"{where} must be a whole number >= {minimum} (got {value!r})")
        return value

    return check


def _positive_number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ConfigError(f"{where} must be a number > 0 (got {value!r})")
    return float(value)


#: Every key a job (or ``[defaults]``) may set, with its check.
JOB_KEYS: dict[str, Callable[[str, Any], Any]] = {
    "provider": _choice(NAMES),
    "catalog": _text,
    "sheet": _text,
    "mapping": _text,
    "schema": _texts,
    "date_format": _date_format,
    "mode": _choice(MODES),
    "blanks": _choice(BLANKS),
    "prefer": _choice(PREFER),
    "engine": _choice(ENGINES),
    "max_deletes": _integer(0),
    "max_failures": _integer(1),
    "rate": _positive_number,
    "concurrency": _integer(1),
    "report_format": _report_format,
    "state": _text,
    "reports": _text,
    "keep_reports": _integer(1),
    "credentials": _text,
    "base_url": _text,
}
_TOP_KEYS = ("defaults", "jobs", "alerts", "credentials", "providers")
_ALERT_KEYS = ("urls", "on")
_PROVIDER_KEYS = ("base_url",)
_PATH_KEYS = ("catalog", "mapping", "state", "reports", "credentials")


@dataclass(frozen=True)
class JobConfig:
    """One ``[jobs.NAME]`` with its defaults applied and its paths made absolute."""

    name: str
    provider: str
    catalog: Path
    state: Path
    reports: Path
    sheet: str | None = None
    mapping: Path | None = None
    #: house-rules files (``--schema``): tighter rules, ``prefer``, ``policy`` and ``protect``
    schema: tuple[Path, ...] = ()
    date_format: str | None = None
    mode: str = "upsert"
    blanks: str = "keep"
    prefer: str | None = None
    engine: str = "auto"
    max_deletes: int = 0
    max_failures: int | None = None
    rate: float | None = None
    concurrency: int | None = None
    report_format: str = "csv"
    keep_reports: int = DEFAULT_KEEP_REPORTS
    credentials: Path | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class AlertsConfig:
    """``[alerts]``: Apprise URLs, and the outcomes that are sent."""

    urls: tuple[str, ...] = ()
    on: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RunConfig:
    path: Path
    jobs: dict[str, JobConfig]
    alerts: AlertsConfig

    def select(self, names: Sequence[str] = ()) -> list[JobConfig]:
        """The named jobs in the order given (every job, in file order, when none is named)."""
        unknown = [n for n in names if n not in self.jobs]
        if unknown:
            raise ConfigError(
                f"no job {', '.join(repr(n) for n in unknown)} in {self.path}; "
                f"its jobs are: {', '.join(self.jobs) or '(none)'}"
            )
        return [self.jobs[n] for n in dict.fromkeys(names)] if names else list(self.jobs.values())


# ------------------------------------------------------------------------------ loading
def load_run_config(path: str | Path = CONFIG_FILE) -> RunConfig:
    """Read and check ``catalog-sync.toml`` (ConfigError, exit 1, naming the file and the key)."""
    path = Path(path)
    data = _read_toml(path)
    _check_keys(data, _TOP_KEYS, "")
    base = path.resolve().parent
    top = {"credentials": _text("credentials", data["credentials"])} if "credentials" in data else {}
    defaults = _table(data, "defaults")
    _check_keys(defaults, tuple(JOB_KEYS), "defaults")
    _check_providers(_table(data, "providers"))
    jobs_table = _table(data, "jobs")
    if not jobs_table:
        raise ConfigError(f"{path} has no [jobs.NAME] table: add one job (provider, catalog) to run")
    jobs = {
        name: _job(name, _table(jobs_table, name, prefix="jobs."), (top, defaults), base)
        for name in jobs_table
    }
    return RunConfig(path, jobs, _alerts(_table(data, "alerts")))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"no config file {path}: write one with a [jobs.NAME] table, or pass --config FILE"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _table(data: Mapping[str, Any], key: str, *, prefix: str = "") -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{prefix}{key}] must be a table")
    return value


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            full = f"{where}.{key}" if where else key
            raise ConfigError(f"unknown key {full!r} in the config{hint}; valid keys: {', '.join(allowed)}")


def _check_providers(providers: Mapping[str, Any]) -> None:
    for name, table in providers.items():
        if name not in NAMES:
            raise ConfigError(f"unknown provider [providers.{name}]; valid: {', '.join(NAMES)}")
        if not isinstance(table, dict):
            raise ConfigError(f"[providers.{name}] must be a table")
        for key in table:
            if key not in _PROVIDER_KEYS:
                raise ConfigError(
                    f"unknown key 'providers.{name}.{key}' in the config: [providers.{name}] may only set "
                    "base_url; credentials belong in the environment or in a credentials file "
                    '(credentials = "FILE", readable only by you)'
                )


def _job(
    name: str, table: dict[str, Any], inherited: tuple[dict[str, Any], dict[str, Any]], base: Path
) -> JobConfig:
    where = f"jobs.{name}"
    top, defaults = inherited
    if not _JOB_NAME.match(name):
        raise ConfigError(
            f"job name {name!r} may only hold letters, digits, '_', '.' and '-' (it names its report files)"
        )
    _check_keys(table, tuple(JOB_KEYS), where)
    values: dict[str, Any] = {}
    for key, value in {**top, **defaults, **table}.items():
        origin = f"{where}.{key}" if key in table else (f"defaults.{key}" if key in defaults else key)
        values[key] = JOB_KEYS[key](origin, value)
    for key in ("provider", "catalog"):
        if key not in values:
            raise ConfigError(f"[{where}] has no {key}: every job needs a provider and a catalog")
    for key in _PATH_KEYS:
        if key in values:
            values[key] = _resolve(base, values[key])
    if "schema" in values:
        values["schema"] = tuple(_resolve(base, v) for v in values["schema"])
    values.setdefault("state", base / ".catalog-sync" / "state.db")
    values.setdefault("reports", base / "reports")
    return JobConfig(name=name, **values)


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _alerts(table: dict[str, Any]) -> AlertsConfig:
    _check_keys(table, _ALERT_KEYS, "alerts")
    urls = table.get("urls", [])
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not all(isinstance(u, str) and u.strip() for u in urls):
        raise ConfigError("alerts.urls must be a list of Apprise URLs (strings)")
    on = table.get("on", [])
    if not isinstance(on, list) or not all(isinstance(o, str) for o in on):
        raise ConfigError(f"alerts.on must be a list of outcomes: {', '.join(ALERT_OUTCOMES)}")
    for outcome in on:
        if outcome not in ALERT_OUTCOMES:
            raise ConfigError(f"alerts.on: unknown outcome {outcome!r}; valid: {', '.join(ALERT_OUTCOMES)}")
    if on and not urls:
        raise ConfigError("alerts.on is set but alerts.urls is empty: add at least one Apprise URL")
    from catalog_sync.config.alert_urls import check_url

    for index, url in enumerate(urls):
        check_url(url.strip(), f"alerts.urls[{index}]")
    return AlertsConfig(tuple(u.strip() for u in urls), frozenset(on))


# ------------------------------------------------------------------------------ credentials
def read_credentials_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (as in a ``.env`` file) from a file only its owner may read or write.

    ConfigError (exit 1) when the file is missing, readable or writable by group or others, or
    has a line that is not ``NAME=value`` (the message gives the line number, never its text).
    """
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read the credentials file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise ConfigError(f"the credentials file {path} is not UTF-8 text") from None
    if info.st_mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"the credentials file {path} can be read or written by others "
            f"(mode {stat.filemode(info.st_mode)}); make it readable only by you: chmod 600 {path}"
        )
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        name, value = _credential_line(line, path, number)
        if name:
            values[name] = value
            if name in SECRET_VARIABLES or any(word in name.upper() for word in _SECRET_WORDS):
                register_secret(value)
    return values


def _credential_line(line: str, path: Path, number: int) -> tuple[str, str]:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return "", ""
    if stripped.startswith("export "):
        stripped = stripped[len("export ") :].lstrip()
    name, sep, value = stripped.partition("=")
    name = name.strip()
    if not sep or not _VARIABLE.match(name):
        raise ConfigError(f"the credentials file {path}, line {number}: not a NAME=value line")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return name, value


def job_environment(job: JobConfig, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables the job's client reads: the environment, overridden by its credentials file."""
    base = dict(os.environ if env is None else env)
    if job.credentials is None:
        return base
    return {**base, **read_credentials_file(job.credentials)}
