"""Campaign configuration: `campaign.toml` read with tomllib into a frozen, typed object.

Where the file is looked for, first match wins: `--config`, `PULSE_CONFIG`,
`./campaign.toml`. With none of them, the built-in defaults below apply (they are the
same as the `campaign.toml` committed at the repository root).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import ConfigError
from core.reference import CHANNELS

CONFIG_ENV = "PULSE_CONFIG"
DEFAULT_CONFIG_NAME = "campaign.toml"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Partner(_Section):
    id: Annotated[str, Field(description="Slug used in landing files and accounts, e.g. `tpo-cambodia`.")]
    name: Annotated[str, Field(min_length=1, description="Display name shown on pages.")]
    channels: Annotated[
        tuple[str, ...],
        Field(description="Helpline channels the partner answers: phone, chat, web, messaging, other."),
    ] = ("phone",)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"must be a lowercase slug like 'tpo-cambodia' (got {v!r})")
        return v

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in v if c not in CHANNELS]
        if bad:
            raise ValueError(f"unknown channel {bad[0]!r}; use one of {', '.join(CHANNELS)}")
        return v


class Privacy(_Section):
    min_cell: Annotated[
        StrictInt,
        Field(ge=2, description="Smallest count a partner or an export may see; smaller ones show as `<N`."),
    ] = 10
    release_after_hours: Annotated[
        StrictInt,
        Field(
            ge=0,
            le=24 * 28,
            description="Hours after a week ends (Sunday midnight, campaign time) before partners see it; "
            "a released week never changes.",
        ),
    ] = 24


class Schedule(_Section):
    cron: Annotated[str, Field(description="When `pulse serve` refreshes, read in the campaign timezone.")] = (
        "5 * * * *"
    )
    keep_run_days: Annotated[
        StrictInt,
        Field(ge=1, description="Days of refresh outcomes and Prefect flow-run records kept; older ones are pruned."),
    ] = 30
    workers: Annotated[
        StrictInt,
        Field(
            ge=0,
            le=64,
            description="Stage worker processes a refresh reads and validates its files on (0: in the refresh's "
            "own process); `pulse refresh --workers N` overrides it.",
        ),
    ] = 0

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        try:
            CronSim(v, dt.datetime(2026, 1, 1))
        except CronSimError as e:
            raise ValueError(f"not a valid cron expression ({e}): {v!r}") from None
        return v


class Warehouse(_Section):
    keep_snapshots: Annotated[
        StrictInt,
        Field(
            ge=1,
            description="Deprecated, unused on the lake (see `keep_days`): published snapshot files kept on disk.",
        ),
    ] = 3
    keep_days: Annotated[
        StrictInt,
        Field(
            ge=1,
            description="Days of the lake's time travel: daily housekeeping expires older snapshots "
            "(`pulse status --at` reaches back this far) and deletes the files only they used.",
        ),
    ] = 30
    catalog: Annotated[
        str | None,
        Field(
            min_length=1,
            description="The DuckLake catalog: `sqlite:PATH` (default `sqlite:DATA_DIR/lake/catalog.sqlite`) or "
            "`postgres:CONNECTION`; env PULSE_CATALOG wins.",
        ),
    ] = None
    data_path: Annotated[
        str | None,
        Field(
            min_length=1,
            description="Where the lake's Parquet files live: a folder (default `DATA_DIR/lake/data/`) or `s3://…`; "
            "env PULSE_DATA_PATH wins.",
        ),
    ] = None

    @field_validator("catalog")
    @classmethod
    def _catalog(cls, v: str | None) -> str | None:
        return None if v is None else check_catalog(v)

    @field_validator("data_path")
    @classmethod
    def _data_path(cls, v: str | None) -> str | None:
        return None if v is None else check_data_path(v)


class Landing(_Section):
    path: Annotated[
        str | None,
        Field(
            min_length=1,
            description="The landing zone on object storage, `s3://bucket/prefix/` (its streams' files under "
            "`<stream>/`; default `DATA_DIR/landing/`); env PULSE_LANDING_PATH wins.",
        ),
    ] = None

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        return None if v is None else check_landing_path(v)


def check_landing_path(v: str) -> str:
    """An s3://bucket/prefix address ending in '/' (config key landing.path or PULSE_LANDING_PATH)."""
    v = v.strip()
    bucket = v.removeprefix("s3://").split("/", 1)[0]
    if not v.startswith("s3://") or not bucket or any(c in v for c in "*?[]{}") or "\\" in v:
        raise ValueError(f"must be an s3://bucket/prefix/ address, without wildcards (got {v!r})")
    return v.rstrip("/") + "/"


PASSWORD_IN_CONNINFO = re.compile(r"password\s*=|://[^/@\s]*:[^/@\s]*@", re.IGNORECASE)
NO_PASSWORD = (
    "a password is never put in the catalog's connection string; "
    "give it in PGPASSWORD or a PostgreSQL service file (service=NAME)"
)


def check_catalog(v: str) -> str:
    """A DuckLake catalog: `sqlite:PATH` or `postgres:CONNECTION` (config key or PULSE_CATALOG).
    A password in it (`password=…`, `sslpassword=…`, `user:pw@` in a URI) is refused without
    being shown: it comes from PGPASSWORD or a service file."""
    v = v.strip()
    if PASSWORD_IN_CONNINFO.search(v):
        raise ValueError(NO_PASSWORD)
    kind, _, rest = v.partition(":")
    if kind not in ("sqlite", "postgres") or not rest.strip():
        raise ValueError(f"must be 'sqlite:PATH' or 'postgres:CONNECTION' (got {v!r})")
    return v


def check_data_path(v: str) -> str:
    """Where DuckLake's data files live: a folder, or an s3:// address (config key or PULSE_DATA_PATH)."""
    v = v.strip()
    if not v or ("://" in v and not v.startswith("s3://")) or v == "s3://":
        raise ValueError(f"must be a folder or an s3://bucket/prefix address (got {v!r})")
    return v


class CampaignEvent(_Section):
    date: Annotated[dt.date, Field(description="Day of the event, in campaign time.")]
    label: Annotated[str, Field(min_length=1, max_length=40, description="Words written beside its mark.")]


class Campaign(_Section):
    events: Annotated[
        tuple[CampaignEvent, ...],
        Field(description="Dates marked on every time chart (a launch, a TV spot, school visits…)."),
    ] = ()


class Validation(_Section):
    max_file_bytes: Annotated[
        StrictInt,
        Field(ge=1, description="Largest landing file read, in bytes after decompression; a bigger one is unreadable."),
    ] = 10 * 1024**3
    earliest: Annotated[
        dt.date, Field(description="An event before this day (00:00 in the campaign timezone) is quarantined.")
    ] = dt.date(2000, 1, 1)


class SsoUser(_Section):
    email: Annotated[str, Field(description="E-mail the identity provider returns (matched without case).")]
    role: Annotated[
        Literal["policy", "partner", "admin"], Field(description="Role of this person: policy, partner or admin.")
    ]
    partner: Annotated[str | None, Field(description="Partner slug, for role partner only.")] = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = v.strip().casefold()
        if not EMAIL.match(v):
            raise ValueError(f"not an e-mail address: {v!r}")
        return v

    @model_validator(mode="after")
    def _partner_for_partners_only(self) -> SsoUser:
        if (self.role == "partner") != (self.partner is not None):
            raise ValueError(f"{self.email}: role partner needs partner = SLUG, other roles take no partner")
        return self


class Auth(_Section):
    max_failed_sign_ins: Annotated[
        StrictInt, Field(ge=1, description="Failed sign-ins in a row that lock a local account.")
    ] = 5
    lockout_minutes: Annotated[StrictInt, Field(ge=1, description="How long a locked account stays locked.")] = 15
    session_idle_minutes: Annotated[
        StrictInt, Field(ge=1, description="A dashboard session without interaction expires after this long.")
    ] = 30
    sso_users: Annotated[
        tuple[SsoUser, ...],
        Field(description="Single sign-on: who may sign in with the identity provider, and as what."),
    ] = ()


ALERT_AUDIENCES = ("policy", "admin", "partner")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class AlertRoute(_Section):
    url: Annotated[
        str,
        Field(
            min_length=1,
            description="An Apprise URL (mailto://, json://, tgram://, slack://, msteams://…); `${ENV_NAME}` "
            "is replaced by that environment variable when a message is sent, so secrets stay out of the file.",
        ),
    ]
    audience: Annotated[
        Literal["policy", "admin", "partner"],
        Field(description="Who reads it: policy (every incident), admin (also failed and stale refreshes), partner."),
    ]
    partner: Annotated[str | None, Field(description="Partner slug, for audience partner only.")] = None
    digest: Annotated[
        bool, Field(description="One daily digest at alerts.digest_hour instead of a message per incident.")
    ] = False

    @model_validator(mode="after")
    def _partner_for_partners_only(self) -> AlertRoute:
        if (self.audience == "partner") != (self.partner is not None):
            raise ValueError("audience partner needs partner = SLUG, other audiences take no partner")
        return self


class Alerts(_Section):
    lookback_days: Annotated[
        StrictInt, Field(ge=1, le=60, description="Complete days checked at each refresh, ending yesterday.")
    ] = 14
    tail_probability: Annotated[
        float,
        Field(
            gt=0,
            lt=0.5,
            description="Poisson tail below which a count is unusual against its baseline (each side).",
        ),
    ] = 0.0001
    min_count: Annotated[StrictInt, Field(ge=1, description="A rise needs a day's count of at least this many.")] = 8
    min_expected: Annotated[
        StrictInt, Field(ge=1, description="A drop needs at least this many expected over the 7 days.")
    ] = 20
    min_ratio: Annotated[
        float, Field(ge=1, description="A rise is at least this many times the baseline, a drop at most 1/this.")
    ] = 3.0
    resolve_after_days: Annotated[
        StrictInt, Field(ge=1, le=14, description="Days back to normal before an open incident is resolved.")
    ] = 2
    quiet_hours: Annotated[
        tuple[str, str] | None,
        Field(
            description='Campaign-time hours with no incident messages, e.g. ["22:00", "07:00"]; held until the end.'
        ),
    ] = ("22:00", "07:00")
    digest_hour: Annotated[
        StrictInt,
        Field(ge=0, le=23, description="Campaign-time hour after which a digest route gets its daily digest."),
    ] = 8
    routes: Annotated[tuple[AlertRoute, ...], Field(description="Where alerts are sent: an array of tables.")] = ()

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: tuple[str, str] | None) -> tuple[str, str] | None:
        for t in v or ():
            if not HHMM.match(t):
                raise ValueError(f'times are HH:MM in campaign time, e.g. "22:00" (got {t!r})')
        return v


class Dashboard(_Section):
    url: Annotated[
        str, Field(description="Address of the dashboard, put in alert links (e.g. https://pulse.example.org).")
    ] = "http://localhost:8501"

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"must start with http:// or https:// (got {v!r})")
        return v.rstrip("/")


DEFAULT_HASHTAGS: dict[str, tuple[str, ...]] = {
    "mentalwellbeing": ("mentalwell", "mentalwellbeingcomesfirst", "សុខុមាលភាពផ្លូវចិត្ត", "សុខភាពផ្លូវចិត្ត"),
}

DEFAULT_PARTNERS: tuple[Partner, ...] = (
    Partner(id="child-helpline-cambodia", name="Child Helpline Cambodia", channels=("phone", "chat")),
    Partner(id="arom-station", name="Arom Station", channels=("chat", "messaging", "web")),
    Partner(id="cambodia-4-0-center", name="Cambodia 4.0 Center", channels=("web", "messaging")),
    Partner(
        id="tpo-cambodia",
        name="Transcultural Psychosocial Organization Cambodia",
        channels=("phone", "messaging"),
    ),
)


class Settings(_Section):
    name: Annotated[str, Field(min_length=1, description="Campaign name shown on every page.")] = (
        "Mental Well-Being Comes First"
    )
    timezone: Annotated[
        str, Field(description="IANA zone of every daily bucket, chart axis and 'today'; events are stored in UTC.")
    ] = "Asia/Phnom_Penh"
    launch: Annotated[dt.date, Field(description="Date the campaign went live.")] = dt.date(2026, 10, 10)
    end: Annotated[dt.date | None, Field(description="Optional last day of the campaign.")] = None
    hashtags: Annotated[
        dict[str, tuple[str, ...]],
        Field(description="Tracked hashtags: each key is a tag, its list the aliases counted as that tag."),
    ] = Field(default_factory=lambda: dict(DEFAULT_HASHTAGS))
    partners: Annotated[tuple[Partner, ...], Field(min_length=1, description="Helpline partners.")] = DEFAULT_PARTNERS
    campaign: Campaign = Campaign()
    privacy: Privacy = Privacy()
    schedule: Schedule = Schedule()
    warehouse: Warehouse = Warehouse()
    landing: Landing = Landing()
    validation: Validation = Validation()
    auth: Auth = Auth()
    alerts: Alerts = Alerts()
    dashboard: Dashboard = Dashboard()
    source: Annotated[str, Field(exclude=True, description="Where the settings came from.")] = "built-in defaults"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r} (e.g. 'Asia/Phnom_Penh')") from None
        return v

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, v: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if not v:
            raise ValueError("track at least one hashtag")
        return {normalize_hashtag(k): tuple(normalize_hashtag(a) for a in aliases) for k, aliases in v.items()}

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.end is not None and self.end < self.launch:
            raise ValueError(f"end: {self.end} is before launch {self.launch}")
        seen: set[str] = set()
        for p in self.partners:
            if p.id in seen:
                raise ValueError(f"partners: duplicate partner id {p.id!r}")
            seen.add(p.id)
        emails: set[str] = set()
        for i, u in enumerate(self.auth.sso_users):
            if u.partner is not None and u.partner not in seen:
                raise ValueError(
                    f"auth.sso_users[{i}].partner: {u.partner!r} is not a partner id; use one of {', '.join(sorted(seen))}"
                )
            if u.email in emails:
                raise ValueError(f"auth.sso_users[{i}].email: {u.email!r} is listed twice")
            emails.add(u.email)
        for i, r in enumerate(self.alerts.routes):
            if r.partner is not None and r.partner not in seen:
                raise ValueError(
                    f"alerts.routes[{i}].partner: {r.partner!r} is not a partner id; use one of {', '.join(sorted(seen))}"
                )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def partner_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.partners)

    @property
    def tracked_hashtags(self) -> frozenset[str]:
        """Every spelling that counts as campaign content, normalised (lowercase, no '#')."""
        return frozenset(t for k, aliases in self.hashtags.items() for t in (k, *aliases))

    def today(self) -> dt.date:
        return dt.datetime.now(self.tz).date()


def normalize_hashtag(tag: str) -> str:
    """Case-insensitive, leading '#' ignored: '#MentalWell' -> 'mentalwell'."""
    return tag.strip().lstrip("#").casefold()


def config_path(explicit: Path | None = None) -> Path | None:
    """The config file to read, or None for the built-in defaults."""
    if explicit is not None:
        return explicit
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_settings(explicit: Path | None = None) -> Settings:
    """Read and validate the campaign config; raise ConfigError with one line on any problem."""
    path = config_path(explicit)
    if path is None:
        return Settings()
    label = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found; pass --config FILE or set {CONFIG_ENV}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{label}: cannot be read ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{label}: not valid TOML ({e})") from None
    return settings_from_dict(raw, label)


def settings_from_dict(raw: dict[str, Any], label: str = DEFAULT_CONFIG_NAME) -> Settings:
    try:
        return Settings.model_validate({**raw, "source": label})
    except ValidationError as e:
        raise ConfigError(f"{label}: {_first_problem(e)}") from None


def _first_problem(error: ValidationError) -> str:
    err = error.errors(include_url=False)[0]
    key = _dotted(err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{key}: unknown key; see the README's configuration table for the keys"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] in {"missing"}:
        return f"{key}: required key is missing"
    if ": " in msg and not key:  # model-level checks already name their key
        return msg
    got = err.get("input")
    hidden = key in UNSHOWN_INPUTS or isinstance(got, dict | list) or got is None or repr(got) in msg
    shown = "" if hidden else f" (got {got!r})"
    return f"{key}: {msg[0].lower()}{msg[1:]}{shown}" if key else msg


UNSHOWN_INPUTS = {"warehouse.catalog"}  # may hold a secret: its checks show what they may themselves


def _dotted(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] += f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts)


def documented_keys() -> list[str]:
    """Every dotted key a user can set, for the README check."""

    def walk(model: type[BaseModel], prefix: str) -> list[str]:
        keys: list[str] = []
        for name, field in model.model_fields.items():
            if field.exclude:
                continue
            key = f"{prefix}{name}"
            keys.append(key)
            ann = field.annotation
            args = getattr(ann, "__args__", ())
            inner = args[0] if getattr(ann, "__origin__", None) is tuple and args else ann
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                keys.extend(walk(inner, f"{key}."))
        return keys

    return walk(Settings, "")
