"""The API's bodies (SPEC §5). Field names are the contract; times carry an offset."""

import datetime as dt
from typing import Literal

from ninja import Schema
from pydantic import AwareDatetime, Field

from madoguchi.bookings.models import Consultation, Request
from madoguchi.seekers.models import Seeker
from madoguchi.terms.models import TermsVersion


def _local(value: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    """Times are shown in the office's local time, with its offset."""
    return value.astimezone(tz) if value else None


class Problem(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None


# Seekers -------------------------------------------------------------------------------


class SeekerIn(Schema):
    job_seeker_number: str = Field(max_length=40)
    name: str = Field(min_length=1, max_length=100)
    name_kana: str = Field("", max_length=100)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    counselor: str | None = Field(None, description="Username of the seeker's counselor")
    registered_on: dt.date
    expires_on: dt.date
    language: Literal["ja", "en"] = "ja"


class SeekerOut(Schema):
    job_seeker_number: str
    name: str
    name_kana: str
    email: str
    phone: str
    counselor: str | None
    registered_on: dt.date
    expires_on: dt.date
    language: str
    status: str
    restriction: str
    restriction_reason: str

    @staticmethod
    def from_model(seeker: Seeker) -> "SeekerOut":
        return SeekerOut(
            job_seeker_number=seeker.number,
            name=seeker.name,
            name_kana=seeker.name_kana,
            email=seeker.email,
            phone=seeker.phone,
            counselor=seeker.counselor.username if seeker.counselor else None,
            registered_on=seeker.registered_on,
            expires_on=seeker.expires_on,
            language=seeker.language,
            status=seeker.status,
            restriction=seeker.restriction,
            restriction_reason=seeker.restriction_reason,
        )


class SeekerPage(Schema):
    count: int
    results: list[SeekerOut]


class ReasonIn(Schema):
    reason: str = Field("", max_length=500)


# Requests ------------------------------------------------------------------------------


class PreferenceIn(Schema):
    start: AwareDatetime
    duration_minutes: int


class Declarations(Schema):
    device_ready: bool = False
    continuing_support: bool = False
    video_terms: bool = False
    private_place: bool = False
    no_recording: bool = False


class Companions(Schema):
    interpreter_language: str = Field("", max_length=50)
    assistant: bool = False


class RequestIn(Schema):
    job_seeker_number: str = Field(max_length=40)
    name: str = Field(max_length=100)
    preferences: list[PreferenceIn] = Field(min_length=1, max_length=3)
    channel: Literal["phone", "counter", "in_consultation"]
    declarations: Declarations
    companions: Companions | None = None


class OnlineRequestIn(Schema):
    """A seeker's own request (R6) to `POST /offices/{office}/requests`: always channel web."""

    job_seeker_number: str = Field(max_length=40)
    name: str = Field(max_length=100)
    preferences: list[PreferenceIn] = Field(min_length=1, max_length=3)
    channel: Literal["web"] = "web"
    declarations: Declarations
    companions: Companions | None = None


class OnlineRequestOut(Schema):
    """What the caller of the public request call learns: the request waits for the link
    mailed to the address in the registry (never one given in the call)."""

    id: int
    status: str
    office: str
    verification: Literal["mailed"] = "mailed"


class PreferenceOut(Schema):
    start: dt.datetime
    duration_minutes: int


class RequestOut(Schema):
    id: int
    status: str
    office: str
    job_seeker_number: str
    name: str
    channel: str
    preferences: list[PreferenceOut]
    declarations: dict[str, bool]
    companions: Companions
    terms_version: int | None
    decline_reason: str
    consultation: int | None
    created_at: dt.datetime

    @staticmethod
    def from_model(request: Request) -> "RequestOut":
        consultation = getattr(request, "consultation", None)
        return RequestOut(
            id=request.pk,
            status=request.status,
            office=request.office.code,
            job_seeker_number=request.seeker.number,
            name=request.name,
            channel=request.channel,
            preferences=[
                PreferenceOut(start=start, duration_minutes=minutes)
                for start, minutes in request.preferred_starts()
            ],
            declarations=request.declarations,
            companions=Companions(
                interpreter_language=request.interpreter_language, assistant=request.assistant
            ),
            terms_version=request.terms_version.number if request.terms_version else None,
            decline_reason=request.decline_reason,
            consultation=consultation.pk if consultation else None,
            created_at=request.created_at.astimezone(request.office.tz),
        )


class RequestPage(Schema):
    count: int
    results: list[RequestOut]


class ScheduleIn(Schema):
    start: AwareDatetime
    duration_minutes: int
    counselor: str | None = None
    override_reason: str = Field("", max_length=500)


class DeclineIn(Schema):
    reason: str = Field(max_length=500)


# Consultations -------------------------------------------------------------------------


class MeetingOut(Schema):
    provider: str
    id: str
    passcode: str
    join_url: str
    # "ready", or a call still to be made ("create", "update", "delete"), "manual"
    # (staff type the details in), "no_host", "failed" (see `error`), "deleted".
    state: str
    error: str


class MeetingDetailsIn(Schema):
    meeting_id: str
    passcode: str = ""
    join_url: str


class StartLinkOut(Schema):
    start_url: str


class ConsultationOut(Schema):
    id: int
    status: str
    office: str
    start: dt.datetime
    end: dt.datetime
    duration_minutes: int
    counselor: str
    job_seeker_number: str
    request: int | None
    meeting: MeetingOut
    override_reason: str
    cancel_channel: str
    cancel_reason: str
    stop_reason_code: str
    actual_start: dt.datetime | None
    actual_end: dt.datetime | None
    seeker_joined_at: dt.datetime | None
    contact_recorded_at: dt.datetime | None

    @staticmethod
    def from_model(c: Consultation) -> "ConsultationOut":
        tz = c.office.tz
        return ConsultationOut(
            id=c.pk,
            status=c.status,
            office=c.office.code,
            start=c.start.astimezone(tz),
            end=c.end.astimezone(tz),
            duration_minutes=c.duration_minutes,
            counselor=c.counselor.username,
            job_seeker_number=c.seeker.number,
            request=c.request_id,
            meeting=MeetingOut(
                provider=c.meeting_provider,
                id=c.meeting_id,
                passcode=c.meeting_passcode,
                join_url=c.meeting_join_url,
                state=c.meeting_state,
                error=c.meeting_error,
            ),
            override_reason=c.override_reason,
            cancel_channel=c.cancel_channel,
            cancel_reason=c.cancel_reason,
            stop_reason_code=c.stop_reason_code,
            actual_start=_local(c.actual_start, tz),
            actual_end=_local(c.actual_end, tz),
            seeker_joined_at=_local(c.seeker_joined_at, tz),
            contact_recorded_at=_local(c.contact_recorded_at, tz),
        )


class ConsultationPage(Schema):
    count: int
    results: list[ConsultationOut]


class CancelIn(Schema):
    channel: Literal["phone", "counter", "in_consultation", "web"]
    reason: str = Field(max_length=500)


class StopIn(Schema):
    reason_code: Literal["threat", "abuse", "non_job_purpose", "other"]
    note: str = Field("", max_length=2000)
    restrict_seeker: bool = False


class BlockedTimeIn(Schema):
    counselor: str
    start: AwareDatetime
    end: AwareDatetime
    reason: str = Field("", max_length=200)


class BlockedTimeOut(Schema):
    id: int
    counselor: str
    start: dt.datetime
    end: dt.datetime
    reason: str


# Availability and terms ----------------------------------------------------------------


class PublicSlot(Schema):
    start: dt.datetime
    end: dt.datetime
    free: int


class StaffSlot(Schema):
    start: dt.datetime
    end: dt.datetime
    free: int
    counselors: list[str]


class Availability(Schema):
    office: str
    duration_minutes: int
    slots: list[StaffSlot] | list[PublicSlot]


class TermsOut(Schema):
    office: str | None
    version: int
    title: str
    effective_from: dt.datetime
    body_ja: str
    body_en: str
    changes_ja: str
    changes_en: str

    @staticmethod
    def from_model(version: TermsVersion) -> "TermsOut":
        return TermsOut(
            office=version.office.code if version.office else None,
            version=version.number,
            title=version.title,
            effective_from=version.effective_from,
            body_ja=version.body_ja,
            body_en=version.body_en,
            changes_ja=version.changes_ja,
            changes_en=version.changes_en,
        )
