"""The demo office: ハローワーク釧路 with its staff, 30 job seekers and a few bookings.

`demo_load()` is idempotent, keyed on the office code: the first run creates everything,
later runs find it and create nothing (they only make sure the demo staff can sign in
with the password kept in the data folder). Everything is made through the services,
so the demo data has the same audit trail and passes the same rules as real data.
"""

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from madoguchi.bookings.models import REQUIRED_DECLARATIONS, Channel, Consultation, Request
from madoguchi.bookings.services import consultation_schedule, request_create
from madoguchi.offices import calendar
from madoguchi.offices.models import Office, Staff
from madoguchi.offices.services import office_create, staff_create
from madoguchi.seekers.models import Seeker
from madoguchi.seekers.services import seeker_create

OFFICE_CODE = "01040"

# (username, role, display name)
STAFF = (
    ("sato", Staff.Role.COUNSELOR, "佐藤 美咲"),
    ("suzuki", Staff.Role.COUNSELOR, "鈴木 健太"),
    ("takahashi", Staff.Role.COUNSELOR, "高橋 由紀"),
    ("tanaka", Staff.Role.COUNSELOR, "田中 誠"),
    ("ito", Staff.Role.COORDINATOR, "伊藤 麻衣"),
    ("watanabe", Staff.Role.MANAGER, "渡辺 浩"),
    ("yamamoto", Staff.Role.AUDITOR, "山本 聡子"),
)

FAMILY_NAMES = (
    ("佐々木", "ササキ"),
    ("山田", "ヤマダ"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
    ("村上", "ムラカミ"),
)
GIVEN_NAMES = (
    ("大輔", "ダイスケ"),
    ("陽子", "ヨウコ"),
    ("翔太", "ショウタ"),
    ("美穂", "ミホ"),
    ("健一", "ケンイチ"),
    ("由美", "ユミ"),
    ("拓也", "タクヤ"),
    ("真由美", "マユミ"),
    ("直樹", "ナオキ"),
    ("恵子", "ケイコ"),
    ("和也", "カズヤ"),
)

# (seeker index, office day 0 or 1, local start, minutes): scheduled consultations.
CONSULTATIONS = (
    (0, 0, "09:30", 30),
    (1, 0, "10:00", 45),
    (2, 0, "13:30", 60),
    (3, 0, "14:00", 30),
    (4, 1, "09:00", 60),
    (5, 1, "15:00", 30),
)
# (seeker index, office day, local start, minutes): requests waiting to be scheduled.
OPEN_REQUESTS = ((6, 1, "10:30", 30), (7, 1, "13:00", 45), (8, 1, "11:00", 60))

PASSWORD_FILE = "demo_password"  # noqa: S105 - the file name, not a password
VIEWERS_GROUP = "demo staff"
OUR_APPS = (
    "offices",
    "seekers",
    "terms",
    "bookings",
    "records",
    "api",
    "notifications",
    "meetings",
)


@dataclass
class Demo:
    office: Office
    staff: list[Staff]
    seekers: list[Seeker]
    password: str
    password_file: Path
    created: bool
    consultations: list[Consultation] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def of_role(self, role: str) -> list[Staff]:
        return [member for member in self.staff if member.role == role]


def demo_password(data_dir: Path) -> tuple[str, Path]:
    """The demo staff's password: made once, then read from `data_dir` (mode 600)."""
    path = data_dir / PASSWORD_FILE
    kept = path.read_text().strip() if path.exists() else ""
    if kept:
        path.chmod(0o600)
        return kept, path
    data_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(password + "\n")
    path.chmod(0o600)
    return password, path


@transaction.atomic
def demo_load() -> Demo:
    """Create the demo office once and return it with its staff, seekers and bookings."""
    password, password_file = demo_password(Path(settings.DATA_DIR))
    office = Office.objects.filter(code=OFFICE_CODE).first()
    created = office is None
    if office is None:
        office = office_create(
            code=OFFICE_CODE,
            name="ハローワーク釧路",
            name_en="Hello Work Kushiro",
            phone="0154-41-1201",
            address="〒085-0832 北海道釧路市富士見3丁目2番3号",
            court="釧路地方裁判所",
        )
    staff = [_staff_ensure(office, username, role, name) for username, role, name in STAFF]
    _staff_can_sign_in(staff, password)
    counselors = [member for member in staff if member.is_counselor]
    seekers = [_seeker_ensure(office, index, counselors) for index in range(30)]
    demo = Demo(office, staff, seekers, password, password_file, created)
    if created:
        _bookings_make(demo)
    return demo


def _staff_ensure(office: Office, username: str, role: str, display_name: str) -> Staff:
    existing = Staff.objects.select_related("user").filter(user__username=username).first()
    if existing is not None:
        return existing
    return staff_create(
        username=username,
        office=office,
        role=role,
        display_name=display_name,
        email=f"{username}@example.org",
    )


def _staff_can_sign_in(staff: list[Staff], password: str) -> None:
    """Every demo user may sign in to the admin with the demo password and look around."""
    group, _ = Group.objects.get_or_create(name=VIEWERS_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=OUR_APPS, codename__startswith="view_"
        )
    )
    for user in (member.user for member in staff):
        if not user.is_staff or not user.check_password(password):
            user.is_staff = True
            user.set_password(password)
            user.save(update_fields=["is_staff", "password"])
        user.groups.add(group)


def _seeker_ensure(office: Office, index: int, counselors: list[Staff]) -> Seeker:
    number = f"{office.code}-{index + 1:08d}"
    existing = Seeker.objects.filter(number=number).first()
    if existing is not None:
        return existing
    family, family_kana = FAMILY_NAMES[index]
    given, given_kana = GIVEN_NAMES[index % len(GIVEN_NAMES)]
    today = timezone.localdate(timezone=office.tz)
    return seeker_create(
        office=office,
        number=number,
        actor=None,
        counselor=counselors[index % len(counselors)].username,
        name=f"{family} {given}",
        name_kana=f"{family_kana} {given_kana}",
        email=f"seeker{index + 1:02d}@example.org",
        registered_on=today - dt.timedelta(days=14 + 7 * index),
        expires_on=today + dt.timedelta(days=365),
    )


def _bookings_make(demo: Demo) -> None:
    """Phone requests taken by the coordinator: most scheduled, a few left in the inbox."""
    coordinator = demo.of_role(Staff.Role.COORDINATOR)[0]
    days = _next_office_days(demo.office, count=2)
    for index, day, start, minutes in CONSULTATIONS:
        begins = _local(demo.office, days[day], start)
        request = _phone_request(coordinator, demo.seekers[index], begins, minutes)
        demo.consultations.append(
            consultation_schedule(
                request_id=request.pk, start=begins, duration_minutes=minutes, actor=coordinator
            )
        )
    for index, day, start, minutes in OPEN_REQUESTS:
        begins = _local(demo.office, days[day], start)
        demo.requests.append(_phone_request(coordinator, demo.seekers[index], begins, minutes))


def _next_office_days(office: Office, count: int) -> list[dt.date]:
    cal = office.calendar()
    first = calendar.earliest_bookable_date(cal, timezone.now())
    days = calendar.office_days(cal, first, first + dt.timedelta(days=60))
    return [next(days) for _ in range(count)]


def _local(office: Office, day: dt.date, time: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(time), tzinfo=office.tz)


def _phone_request(coordinator: Staff, seeker: Seeker, start: dt.datetime, minutes: int) -> Request:
    return request_create(
        office=seeker.office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(start, minutes)],
        channel=Channel.PHONE,
        declarations=dict.fromkeys(REQUIRED_DECLARATIONS, True),
        actor=coordinator,
    )
