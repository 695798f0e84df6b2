"""The errors a rule can raise, each with the stable code of the API contract."""

from django.utils.translation import gettext_lazy as _

# code -> HTTP status. The codes are the public contract (SPEC §5); never rename one.
STATUS_BY_CODE: dict[str, int] = {
    "invalid_input": 422,
    "invalid_job_seeker_number": 422,
    "seeker_not_registered": 422,
    "seeker_restricted": 422,
    "declaration_missing": 422,
    "outside_office_hours": 422,
    "not_an_office_day": 422,
    "lead_time": 422,
    "invalid_duration": 422,
    "slot_taken": 409,
    "seeker_busy": 409,
    "invalid_transition": 409,
    "not_found": 404,
    "forbidden": 403,
    "unauthorized": 401,
    "rate_limited": 429,
    # Not in SPEC §5's list: Zoom did not answer a call that cannot wait for the worker
    # (the host's fresh start link).
    "meeting_unavailable": 503,
}

TITLES = {
    "invalid_input": _("The request is not well formed."),
    "invalid_job_seeker_number": _("The job-seeker number is not valid."),
    "seeker_not_registered": _("No active registration was found for this job-seeker number."),
    "seeker_restricted": _(
        "Online consultation is not available for this job seeker. Please call the office."
    ),
    "declaration_missing": _("A required declaration was not confirmed."),
    "outside_office_hours": _("The time is outside the consultation hours."),
    "not_an_office_day": _("The office is closed on that day."),
    "lead_time": _("Consultations must be booked by the end of the previous day."),
    "invalid_duration": _("The length of the consultation is not allowed."),
    "slot_taken": _("That time is no longer free."),
    "seeker_busy": _("The job seeker already has a consultation at that time."),
    "invalid_transition": _("That action is not possible in the current state."),
    "not_found": _("Not found."),
    "forbidden": _("You do not have permission for this."),
    "unauthorized": _("Authentication is required."),
    "rate_limited": _("Too many requests. Please wait and try again."),
    "meeting_unavailable": _("The meeting service did not answer. Please try again."),
}


class BookingError(Exception):
    """A rule said no. `code` is the API's stable error code; `detail` says why, for people."""

    def __init__(self, code: str, detail: str = "", *, field: str | None = None) -> None:
        if code not in STATUS_BY_CODE:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.detail = detail or str(TITLES[code])
        self.field = field
        super().__init__(f"{code}: {self.detail}")

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]

    @property
    def title(self) -> str:
        return str(TITLES[self.code])


class RateLimited(BookingError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate_limited")
        self.retry_after = retry_after
