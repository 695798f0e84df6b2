"""Who may do what (least privilege). Every endpoint calls one of these first.

- counselor: their own caseload, their own consultations, requests of their seekers
- coordinator: the office's requests, scheduling and calendar; seekers' registry
- manager: everything of the office, including restrictions
- auditor: no personal data through this API (reports and the audit log elsewhere)
Another office's objects answer 404, never their data.
"""

from django.utils.translation import gettext as _

from madoguchi.bookings.models import Consultation, Request
from madoguchi.errors import BookingError
from madoguchi.offices.models import Office, Staff
from madoguchi.seekers.models import Seeker

Role = Staff.Role
CASEWORK = frozenset({Role.COUNSELOR, Role.COORDINATOR, Role.MANAGER})
OFFICE_WIDE = frozenset({Role.COORDINATOR, Role.MANAGER})
MANAGERS = frozenset({Role.MANAGER})


def require_role(staff: Staff, roles: frozenset[str]) -> None:
    if staff.role not in roles:
        raise BookingError(
            "forbidden",
            _("Your role (%(role)s) may not do this.") % {"role": staff.get_role_display()},
        )


def _same_office(staff: Staff, office: Office | int) -> None:
    office_id = office if isinstance(office, int) else office.pk
    if office_id != staff.office_id:
        raise BookingError("not_found")


def _own_seeker(staff: Staff, seeker: Seeker) -> None:
    if staff.role == Role.COUNSELOR and seeker.counselor_id != staff.pk:
        raise BookingError("forbidden", _("This job seeker is not in your caseload."))


def check_seeker(staff: Staff, seeker: Seeker, roles: frozenset[str] = CASEWORK) -> None:
    _same_office(staff, seeker.office_id)
    require_role(staff, roles)
    _own_seeker(staff, seeker)


def check_request(staff: Staff, request: Request, roles: frozenset[str] = CASEWORK) -> None:
    _same_office(staff, request.office_id)
    require_role(staff, roles)
    _own_seeker(staff, request.seeker)


def check_consultation(staff: Staff, consultation: Consultation) -> None:
    _same_office(staff, consultation.office_id)
    require_role(staff, CASEWORK)
    if staff.role == Role.COUNSELOR and staff.pk not in (
        consultation.counselor_id,
        consultation.seeker.counselor_id,
    ):
        raise BookingError("forbidden", _("This consultation is not yours."))
