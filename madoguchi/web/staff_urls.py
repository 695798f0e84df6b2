from django.urls import path

from madoguchi.web import office, registry, staff
from madoguchi.web import records as records_pages

app_name = "staff"

urlpatterns = [
    path("", staff.home, name="home"),
    path("requests/", staff.inbox, name="inbox"),
    path("requests/<int:request_id>/schedule/", staff.request_schedule, name="request-schedule"),
    path("requests/<int:request_id>/decline/", staff.request_decline, name="request-decline"),
    path("requests/new/", staff.intake, name="intake"),
    path("seekers/", registry.seekers, name="seekers"),
    path("seekers/<str:number>/", registry.seeker, name="seeker"),
    path(
        "seekers/<str:number>/<str:action>/",
        registry.seeker_restriction,
        name="seeker-restriction",
    ),
    path("office/", office.settings_page, name="office"),
    path("office/closures/", office.closure_create, name="closure-create"),
    path("office/closures/<int:closure_id>/delete/", office.closure_delete, name="closure-delete"),
    path("day/", staff.day, name="day"),
    path("week/", staff.week, name="week"),
    path("blocked-time/", staff.blocks, name="blocks"),
    path("blocked-time/<int:block_id>/delete/", staff.block_delete, name="block-delete"),
    path("consultations/<int:consultation_id>/", staff.consultation, name="consultation"),
    path(
        "consultations/<int:consultation_id>/start-meeting/",
        staff.consultation_start_meeting,
        name="consultation-start-meeting",
    ),
    path(
        "consultations/<int:consultation_id>/live/",
        staff.consultation_live,
        name="consultation-live",
    ),
    path(
        "consultations/<int:consultation_id>/notes/",
        staff.consultation_notes,
        name="consultation-notes",
    ),
    path(
        "consultations/<int:consultation_id>/book-next/",
        staff.consultation_book_next,
        name="consultation-book-next",
    ),
    path(
        "consultations/<int:consultation_id>/proof/",
        staff.consultation_proof,
        name="consultation-proof",
    ),
    path(
        "consultations/<int:consultation_id>/<str:action>/",
        staff.consultation_action,
        name="consultation-action",
    ),
    path("audit/", records_pages.audit_log, name="audit"),
    path("usage/", records_pages.usage, name="usage"),
]
