from django.urls import path

from madoguchi.web import disclosures as disclosure_views
from madoguchi.web import office, registry, staff, staff_terms
from madoguchi.web import records as records_pages
from madoguchi.web import reports as report_views
from madoguchi.web import team as team_views

app_name = "staff"

urlpatterns = [
    path("", staff.home, name="home"),
    path("requests/", staff.inbox, name="inbox"),
    path("requests/<int:request_id>/schedule/", staff.request_schedule, name="request-schedule"),
    path("requests/<int:request_id>/decline/", staff.request_decline, name="request-decline"),
    path("requests/new/", staff.intake, name="intake"),
    path("seekers/", registry.seekers, name="seekers"),
    path("seekers/new/", registry.seeker_new, name="seeker-new"),
    path("seekers/import/", registry.seekers_import, name="seekers-import"),
    path("seekers/<str:number>/edit/", registry.seeker_edit, name="seeker-edit"),
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
    path("disclosures/", disclosure_views.disclosures, name="disclosures"),
    path("disclosures/new/", disclosure_views.disclosure_new, name="disclosure-new"),
    path("disclosures/<int:disclosure_id>/", disclosure_views.disclosure, name="disclosure"),
    path(
        "disclosures/<int:disclosure_id>/decide/",
        disclosure_views.disclosure_decide,
        name="disclosure-decide",
    ),
    path(
        "disclosures/<int:disclosure_id>/export/",
        disclosure_views.disclosure_export,
        name="disclosure-export",
    ),
    path(
        "disclosures/own-data/<str:number>/",
        disclosure_views.seeker_export,
        name="seeker-export",
    ),
    path("team/", team_views.team, name="team"),
    path("team/new/", team_views.team_add, name="team-add"),
    path("team/<int:staff_id>/", team_views.team_member, name="team-member"),
    path(
        "team/<int:staff_id>/<str:action>/",
        team_views.team_member_action,
        name="team-member-action",
    ),
    path("terms/", staff_terms.terms_list, name="terms"),
    path("terms/new/", staff_terms.terms_new, name="terms-new"),
    path("terms/<int:number>/", staff_terms.terms_detail, name="terms-detail"),
    path("terms/<int:number>/withdraw/", staff_terms.terms_withdraw_view, name="terms-withdraw"),
    path("reports/", report_views.reports, name="reports"),
    path("reports/usage.csv", report_views.reports_csv, name="reports-csv"),
    path("audit/", records_pages.audit_log, name="audit"),
    path("usage/", records_pages.usage, name="usage"),
]
